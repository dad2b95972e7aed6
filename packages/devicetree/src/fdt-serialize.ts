// Byte layout exactly as dtc 1.6.1 writes it (flattree.c: dt_to_blob(), make_fdt_header(),
// flatten_tree(), version_table): header, 8-aligned memory reservation map with its zero
// terminator, structure block, strings block, then optional zero padding.
import { rejectUnknownOptions } from '@vfiokit/core';
import { ByteWriter } from './byte-writer.js';
import { FdtError } from './fdt-error.js';
import { align, FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_MAGIC, FDT_PROP } from './fdt-format.js';
import { latin1Encode } from './latin1.js';
import { StringTable } from './string-table.js';
import type { DeviceTree, DtNode } from './tree.js';

/** Padding choices, named after dtc's options. */
export interface SerializeOptions {
  /**
   * `'keep'` (default): pad to `tree.header.totalSize` when the tree has one (a parsed tree),
   * as `-S` would. `'none'`: end at the strings block, as `dtc -I dtb -O dtb` does.
   * Explicit `minSize`/`padSize`/`alignSize` apply on top, in dtc's order.
   */
  readonly padding?: 'keep' | 'none';
  /** dtc `-S`: pad with zeros so that `totalsize` is at least this many bytes. */
  readonly minSize?: number;
  /** dtc `-p`: add this many zero bytes after the strings block (overrides `minSize`). */
  readonly padSize?: number;
  /** dtc `-a`: pad so that `totalsize` is a multiple of this power of two (applied last). */
  readonly alignSize?: number;
}

interface VersionInfo {
  readonly hdrSize: number;
  /** FTF_FULLPATH | FTF_VARALIGN | FTF_NAMEPROPS: the pre-v16 conventions. */
  readonly legacy: boolean;
}

// dtc flattree.c version_table (version 1 is outside libfdt's range and not written).
const VERSIONS: ReadonlyMap<number, VersionInfo> = new Map([
  [2, { hdrSize: 32, legacy: true }],
  [3, { hdrSize: 36, legacy: true }],
  [16, { hdrSize: 36, legacy: false }],
  [17, { hdrSize: 40, legacy: false }],
]);

const ZERO = new Uint8Array(1);
const U64_MAX = (1n << 64n) - 1n;

const NAME_BYTES = new Map<string, Uint8Array>();

function nameBytes(name: string): Uint8Array {
  let bytes = NAME_BYTES.get(name);
  if (bytes === undefined) {
    bytes = latin1Encode(name, 'node name');
    if (NAME_BYTES.size < 65536) NAME_BYTES.set(name, bytes);
  }
  return bytes;
}

function flatten(
  node: DtNode,
  path: string,
  out: ByteWriter,
  strings: StringTable,
  vi: VersionInfo,
  depth: number,
): void {
  if (depth === 0 && node.name !== '') {
    throw new FdtError(
      'BADVALUE',
      `the root node must have an empty name, not ${JSON.stringify(node.name)}`,
      { path: '/' },
    );
  }
  if (vi.legacy && node.name.includes('/')) {
    // Pre-v16 blobs name nodes by full path; a '/' inside a name would change the path.
    throw new FdtError(
      'BADVALUE',
      `node name ${JSON.stringify(node.name)} contains '/', which a version ${vi.hdrSize === 32 ? 2 : 3} blob cannot hold`,
      { path },
    );
  }
  out.u32(FDT_BEGIN_NODE);
  out.bytes(nameBytes(vi.legacy ? path : node.name));
  out.bytes(ZERO);
  out.alignTo(4);
  let seenName = false;
  for (const prop of node.properties) {
    if (prop.name === 'name') seenName = true;
    const nameoff = strings.insert(prop.name);
    out.u32(FDT_PROP);
    out.u32(prop.value.length);
    out.u32(nameoff);
    if (vi.legacy && prop.value.length >= 8) out.alignTo(8);
    out.bytes(prop.value);
    out.alignTo(4);
  }
  if (vi.legacy && !seenName) {
    // FTF_NAMEPROPS: pre-v16 blobs carry a `name` property holding the name before '@'.
    const at = node.name.indexOf('@');
    const base = nameBytes(at < 0 ? node.name : node.name.slice(0, at));
    out.u32(FDT_PROP);
    out.u32(base.length + 1);
    out.u32(strings.insert('name'));
    if (base.length + 1 >= 8) out.alignTo(8);
    out.bytes(base);
    out.bytes(ZERO);
    out.alignTo(4);
  }
  for (const child of node.children) {
    const childPath = !vi.legacy ? path : path === '/' ? `/${child.name}` : `${path}/${child.name}`;
    flatten(child, childPath, out, strings, vi, depth + 1);
  }
  out.u32(FDT_END_NODE);
}

/**
 * Writes `tree` as a flattened device tree blob, byte for byte as `dtc -O dtb -V <version>`
 * would for the same tree (versions 2, 3, 16 and 17, from `tree.header.version`).
 *
 * A parsed tree keeps its blob's `totalsize` (zero padding after the strings block, as dtc
 * `-p`/`-S`/`-a` and QEMU's 1 MiB buffer leave); `{ padding: 'none' }` ends the blob at its
 * strings block, as `dtc -I dtb -O dtb` does. Trees built in code have no padding.
 */
export function serializeFdt(tree: DeviceTree, options: SerializeOptions = {}): Uint8Array {
  rejectUnknownOptions(options, ['padding', 'minSize', 'padSize', 'alignSize'], 'serializeFdt');
  if (options.padding !== undefined && options.padding !== 'keep' && options.padding !== 'none') {
    throw new FdtError('BADVALUE', `padding ${String(options.padding)} is not 'keep' or 'none'`);
  }
  const requested = tree.header.version;
  if (!Number.isInteger(requested) || requested < 2 || requested > 0xffffffff) {
    throw new FdtError('BADVERSION', `version ${requested} is not one libfdt reads (2 or later)`);
  }
  // dtc reads any version libfdt accepts but writes only its version_table entries: a blob
  // of another version (4–15, 18, …) comes out as dtc's default, 17, as `dtc -I dtb -O dtb` does.
  const version = VERSIONS.has(requested) ? requested : 17;
  const vi = VERSIONS.get(version) ?? { hdrSize: 40, legacy: false };
  const cpu = tree.header.bootCpuidPhys;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu > 0xffffffff) {
    throw new FdtError('BADVALUE', `boot_cpuid_phys ${cpu} is not a u32`);
  }
  // dtc always writes its version_table value (1 or 16); the tree's own value is written
  // instead so a parsed header survives, checked the way fdt_check_header() would read it.
  // When that value cannot be written (0, or above the written version), dtc's own is.
  const given = tree.header.lastCompatibleVersion;
  const lastComp = Number.isInteger(given) && given >= 1 && given <= version ? given : vi.legacy ? 1 : 16;
  const strings = new StringTable();
  const structure = new ByteWriter(structSizeHint(tree.root));
  flatten(tree.root, '/', structure, strings, vi, 0);
  structure.u32(FDT_END);

  const rsvOff = align(vi.hdrSize, 8);
  const rsvSize = (tree.reserveMap.length + 1) * 16;
  const structOff = rsvOff + rsvSize;
  const stringsOff = structOff + structure.length;
  const used = stringsOff + strings.length;
  const kept = options.padding === 'none' ? undefined : tree.header.totalSize;
  const padlen = paddingFor(
    used,
    kept === undefined || options.minSize !== undefined ? options : { ...options, minSize: kept },
  );
  const totalsize = used + padlen;
  if (totalsize > 0x7fffffff) {
    throw new FdtError('NOSPACE', `blob of ${totalsize} bytes exceeds libfdt's 2 GiB limit`);
  }
  // A v2 header has no size_dt_strings, but libfdt's fdt_check_header() reads the word at
  // offset 32 anyway: dtc puts the reserve map there, so the first entry's high address word
  // must keep the strings block inside the blob, or libfdt (and parseFdt) refuse the result.
  const first = tree.reserveMap[0];
  if (version === 2 && first !== undefined && stringsOff + Number(first.address >> 32n) > totalsize) {
    throw new FdtError(
      'BADVALUE',
      `a version 2 blob cannot start its reserve map with address 0x${first.address.toString(16)}: libfdt would read 0x${(first.address >> 32n).toString(16)} as size_dt_strings`,
    );
  }
  const out = new Uint8Array(totalsize);
  const view = new DataView(out.buffer);
  // make_fdt_header(): fields the version does not have stay outside the written header.
  const header = [
    FDT_MAGIC,
    totalsize,
    structOff,
    stringsOff,
    rsvOff,
    version,
    lastComp,
    cpu,
    strings.length,
    structure.length,
  ];
  const fields = vi.hdrSize / 4;
  for (let i = 0; i < fields; i++) view.setUint32(i * 4, header[i] ?? 0, false);
  let at = rsvOff;
  for (const [i, entry] of tree.reserveMap.entries()) {
    // A zero size would end the map early on re-read (fdt_num_mem_rsv()), so it is refused.
    if (entry.address < 0n || entry.address > U64_MAX || entry.size <= 0n || entry.size > U64_MAX) {
      throw new FdtError(
        'BADVALUE',
        `reserve map entry ${i} (address ${entry.address}, size ${entry.size}) is not a u64 address with a non-zero u64 size`,
      );
    }
    view.setBigUint64(at, entry.address, false);
    view.setBigUint64(at + 8, entry.size, false);
    at += 16;
  }
  out.set(structure.contents(), structOff);
  strings.writeTo(out, stringsOff);
  return out;
}

/** The v16+ structure-block size (exact for v16/17; pre-v16 blobs grow past it by a little). */
function structSizeHint(root: DtNode): number {
  let size = 4;
  const stack: DtNode[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    size += 8 + ((node.name.length + 4) & ~3);
    for (const prop of node.properties) size += 12 + ((prop.value.length + 3) & ~3);
    for (const child of node.children) stack.push(child);
  }
  return size + 64;
}

/** dt_to_blob()'s padding arithmetic for -S, -p and -a. */
function paddingFor(used: number, options: SerializeOptions): number {
  for (const [key, value] of Object.entries(options)) {
    if (key === 'padding') continue;
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)) {
      throw new FdtError('BADVALUE', `${key} ${value} is not a byte count in [0, 2^31)`);
    }
  }
  let padlen = 0;
  if (options.minSize !== undefined && options.minSize > 0) padlen = Math.max(0, options.minSize - used);
  if (options.padSize !== undefined && options.padSize > 0) padlen = options.padSize;
  const a = options.alignSize;
  if (a !== undefined && a > 0) {
    if ((a & (a - 1)) !== 0) throw new FdtError('BADVALUE', `alignSize ${a} is not a power of two`);
    padlen = Math.ceil((used + padlen) / a) * a - used;
  }
  return padlen;
}
