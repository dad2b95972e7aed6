// The structure-block walk mirrors libfdt's fdt_next_tag() and fdt_check_full()
// (scripts/dtc/libfdt/fdt.c, fdt_check.c): the same bounds, the same error names.
// It is iterative and every step advances by at least one 4-byte token, so no blob can
// make it loop or recurse without bound.
import { FdtError } from './fdt-error.js';
import { align, FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_NOP, FDT_PROP } from './fdt-format.js';
import { type FdtLayout, readHeader } from './fdt-header.js';
import { latin1Decode } from './latin1.js';
import type { DeviceTree, DtNode, DtProperty, DtReserveEntry } from './tree.js';

/**
 * How deep vfiokit nests nodes. libfdt and dtc set no limit, and drivers/of/fdt.c
 * unflatten_dt_nodes() only skips (WARN_ON_ONCE) nodes at depth FDT_MAX_DEPTH − 1 (63) and
 * below rather than refusing the blob, so real trees of any sane depth must parse; this
 * bound only keeps the printers' and writers' walks over hostile blobs within the stack.
 */
export const FDT_MAX_DEPTH = 1024;

interface MutableNode {
  readonly name: string;
  readonly properties: DtProperty[];
  readonly children: DtNode[];
}

function readReserveMap(bytes: Uint8Array, layout: FdtLayout): DtReserveEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: DtReserveEntry[] = [];
  // libfdt fdt_num_mem_rsv(): entries up to the one whose size is 0; an entry must fit below totalsize.
  for (let at = layout.offMemRsvmap; ; at += 16) {
    if (at + 16 > layout.totalsize) {
      throw new FdtError('TRUNCATED', 'memory reservation map has no terminating entry before totalsize', {
        offset: at,
      });
    }
    const address = view.getBigUint64(at, false);
    const size = view.getBigUint64(at + 8, false);
    if (size === 0n) return entries;
    entries.push({ address, size });
  }
}

/**
 * Parses a flattened device tree blob (header versions 2–17, as libfdt accepts them).
 *
 * Blocks may come in any order and be separated by free space; bytes past `totalsize` are
 * ignored. Malformed input throws {@link FdtError} with libfdt's code and the byte offset
 * of the fault; where `fdt_check_full()` rejects a blob, so does this (plus: a blob without
 * a root node, bytes after `FDT_END` inside `size_dt_struct`, nesting deeper than
 * {@link FDT_MAX_DEPTH}). Property values are views into a private copy of the structure
 * block, never into `bytes`.
 */
export function parseFdt(bytes: Uint8Array): DeviceTree {
  // Callers from plain JavaScript can hand anything over; that is bad input too, not a TypeError.
  if (!(bytes instanceof Uint8Array)) {
    throw new FdtError('BADVALUE', `a blob is a Uint8Array, not ${Object.prototype.toString.call(bytes)}`, {
      offset: 0,
    });
  }
  const layout = readHeader(bytes);
  const reserveMap = readReserveMap(bytes, layout);
  const { version, structStart, structEnd, stringsStart, stringsEnd } = layout;
  // One copy of the structure block: values become views into it, detached from the caller's buffer.
  // (new + set rather than slice(): Buffer.prototype.slice() would return a view, not a copy.)
  const struct = new Uint8Array(structEnd - structStart);
  struct.set(bytes.subarray(structStart, structEnd));
  const limit = struct.length;
  const view = new DataView(struct.buffer, struct.byteOffset, struct.byteLength);
  const names = new Map<number, string>();
  const stack: MutableNode[] = [];
  let root: MutableNode | undefined;
  let rootClosed = false;
  // vfiokit's checks beyond fdt_check_full() are deferred to the end of the walk, so that a
  // blob libfdt rejects is rejected with libfdt's own code, whatever else is wrong with it.
  let stricter: FdtError | undefined;
  let offset = 0;
  for (;;) {
    const at = structStart + offset;
    if (offset + 4 > limit) {
      throw new FdtError('TRUNCATED', 'structure block ends without an FDT_END token', { offset: at });
    }
    const tag = view.getUint32(offset, false);
    if (rootClosed && tag !== FDT_END && tag !== FDT_NOP) {
      throw new FdtError(
        'BADSTRUCTURE',
        `token 0x${tag.toString(16)} after the root node's FDT_END_NODE (a second root?)`,
        { offset: at },
      );
    }
    switch (tag) {
      case FDT_BEGIN_NODE: {
        const nameStart = offset + 4;
        const nul = struct.indexOf(0, nameStart);
        if (nul < 0) {
          throw new FdtError('BADSTRUCTURE', 'node name runs past the end of the structure block', {
            offset: structStart + nameStart,
          });
        }
        let name = latin1Decode(struct, nameStart, nul);
        if (version < 16) {
          // libfdt fdt_get_name(): before v16 the name is the full path; keep the leaf.
          const slash = name.lastIndexOf('/');
          if (slash < 0) {
            const error = new FdtError(
              'BADSTRUCTURE',
              `version ${version} node name ${JSON.stringify(name)} is not a full path`,
              { offset: structStart + nameStart },
            );
            if (stack.length === 0) throw error;
            stricter ??= error;
          }
          name = name.slice(slash + 1);
        }
        if (stack.length === 0 && name !== '') {
          throw new FdtError(
            'BADSTRUCTURE',
            `root node has the name ${JSON.stringify(name)}; it must be empty`,
            { offset: at },
          );
        }
        if (stack.length >= FDT_MAX_DEPTH) {
          stricter ??= new FdtError(
            'BADSTRUCTURE',
            `node nesting deeper than vfiokit's FDT_MAX_DEPTH (${FDT_MAX_DEPTH})`,
            { offset: at },
          );
        }
        const node: MutableNode = { name, properties: [], children: [] };
        const parent = stack[stack.length - 1];
        if (parent === undefined) root = node;
        else parent.children.push(node);
        stack.push(node);
        offset = align(nul + 1, 4);
        break;
      }
      case FDT_END_NODE: {
        if (stack.pop() === undefined) {
          throw new FdtError('BADSTRUCTURE', 'FDT_END_NODE outside any node', { offset: at });
        }
        if (stack.length === 0) rootClosed = true;
        offset += 4;
        break;
      }
      case FDT_PROP: {
        if (offset + 12 > limit) {
          throw new FdtError('BADSTRUCTURE', 'property header runs past the end of the structure block', {
            offset: at,
          });
        }
        const len = view.getUint32(offset + 4, false);
        const nameoff = view.getUint32(offset + 8, false);
        let dataStart = offset + 12;
        // fdt_next_tag(): before v16, values of 8 bytes or more are 8-byte aligned.
        if (version < 16 && len >= 8 && dataStart % 8 !== 0) dataStart += 4;
        if (dataStart + len > limit) {
          throw new FdtError(
            'BADSTRUCTURE',
            `property length ${len} runs past the end of the structure block`,
            { offset: structStart + offset + 4 },
          );
        }
        let name = names.get(nameoff);
        if (name === undefined) {
          name = readName(
            bytes,
            nameoff,
            stringsStart,
            stringsEnd,
            layout.totalsize,
            structStart + offset + 8,
          );
          names.set(nameoff, name);
        }
        const node = stack[stack.length - 1];
        if (node === undefined)
          stricter ??= new FdtError('BADSTRUCTURE', 'FDT_PROP outside any node', { offset: at });
        else node.properties.push({ name, value: struct.subarray(dataStart, dataStart + len) });
        offset = align(dataStart + len, 4);
        break;
      }
      case FDT_NOP:
        offset += 4;
        break;
      case FDT_END: {
        if (stack.length !== 0) {
          throw new FdtError('BADSTRUCTURE', `FDT_END inside ${stack.length} unclosed node(s)`, {
            offset: at,
          });
        }
        if (stricter !== undefined) throw stricter;
        if (root === undefined) {
          throw new FdtError('BADSTRUCTURE', 'structure block has no root node', { offset: at });
        }
        if (version >= 17 && offset + 4 < limit) {
          throw new FdtError(
            'BADSTRUCTURE',
            `${limit - offset - 4} byte(s) after FDT_END inside size_dt_struct`,
            { offset: at + 4 },
          );
        }
        return {
          header: {
            version,
            lastCompatibleVersion: layout.lastCompVersion,
            bootCpuidPhys: layout.bootCpuidPhys,
            totalSize: layout.totalsize,
          },
          reserveMap,
          root,
        };
      }
      default:
        throw new FdtError('BADSTRUCTURE', `unknown token 0x${tag.toString(16)}`, { offset: at });
    }
  }
}

/** libfdt fdt_get_string(): the NUL-terminated name at `nameoff` in the strings block. */
function readName(
  bytes: Uint8Array,
  nameoff: number,
  start: number,
  end: number,
  totalsize: number,
  at: number,
): string {
  const abs = start + nameoff;
  if (nameoff > 0x7fffffff || abs >= totalsize || abs >= end) {
    throw new FdtError('BADOFFSET', `property name offset ${nameoff} is outside the strings block`, {
      offset: at,
    });
  }
  const nul = bytes.subarray(abs, end).indexOf(0);
  if (nul < 0) {
    throw new FdtError(
      'TRUNCATED',
      `property name at strings offset ${nameoff} has no terminating NUL inside the strings block`,
      { offset: abs },
    );
  }
  return latin1Decode(bytes, abs, abs + nul);
}
