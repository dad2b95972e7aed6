// Building trees in code. Phandles are given the way dtc gives them (livetree.c
// get_node_phandle(), called from checks.c fixup_phandle_references()): in tree order of the
// references, starting at 1, skipping values already taken, with the `phandle` property
// appended to the target's properties. `symbols: true` adds /__symbols__ as `dtc -@` does.
import { rejectUnknownOptions } from '@vfiokit/core';
import { FdtError } from './fdt-error.js';
import type { DeviceTree, DtNode, DtProperty, DtReserveEntry } from './tree.js';

/** A phandle reference to a labelled node, resolved when the tree is built. */
export interface DtRef {
  readonly ref: string;
}

/** One cell of {@link DtNodeBuilder.cells}: a u32 or a reference to a labelled node. */
export type DtCell = number | DtRef;

/** A reference to the node labelled `label` (`&label` in DTS). */
export function ref(label: string): DtRef {
  return { ref: label };
}

/** A property value before references are resolved. */
export type DtDraftValue = Uint8Array | { readonly cells: readonly DtCell[] };

/** A node under construction (internal to the builder; not exported from the package). */
export interface DtDraft {
  readonly name: string;
  readonly props: { name: string; value: DtDraftValue }[];
  readonly children: DtDraft[];
  readonly labels: string[];
}

const encoder = new TextEncoder();

function checkName(name: string, what: string): void {
  if (name.length === 0 || name.includes('\0') || name.includes('/')) {
    throw new FdtError(
      'BADVALUE',
      `${what} name ${JSON.stringify(name)} must be non-empty, without '/' or NUL`,
    );
  }
}

function u32Bytes(values: readonly number[], name: string): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new FdtError('BADVALUE', `property ${name}: cell ${v} is not a u32`);
    view.setUint32(i * 4, v, false);
  });
  return out;
}

/** Builds the properties and children of one node; obtained from {@link DeviceTreeBuilder}. */
export class DtNodeBuilder {
  private readonly draft: DtDraft;

  /** Wraps a draft node; {@link DeviceTreeBuilder.root} and {@link DtNodeBuilder.node} create these. */
  constructor(draft: DtDraft) {
    this.draft = draft;
  }

  private add(name: string, value: DtDraftValue): this {
    checkName(name, 'property');
    if (this.draft.props.some((p) => p.name === name)) {
      throw new FdtError('EXISTS', `property ${name} is already set`, { path: this.draft.name || '/' });
    }
    this.draft.props.push({ name, value });
    return this;
  }

  /** Gives this node a label, so {@link ref} can point at it (and `/__symbols__` can name it). */
  label(label: string): this {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label))
      throw new FdtError('BADVALUE', `label ${JSON.stringify(label)} is not a DTS label`);
    this.draft.labels.push(label);
    return this;
  }

  /** A boolean (empty) property, e.g. `dma-coherent`. */
  flag(name: string): this {
    return this.add(name, new Uint8Array(0));
  }

  /** A string or string list property (each string NUL-terminated, UTF-8). */
  string(name: string, ...values: string[]): this {
    if (values.length === 0) throw new FdtError('BADVALUE', `property ${name}: no strings given`);
    const parts = values.map((v) => {
      if (v.includes('\0')) throw new FdtError('BADVALUE', `property ${name}: string contains NUL`);
      return encoder.encode(v);
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length + 1;
    }
    return this.add(name, out);
  }

  /** A list of 32-bit cells; {@link ref} entries become the target's phandle. */
  cells(name: string, ...values: DtCell[]): this {
    for (const v of values) if (typeof v === 'number') u32Bytes([v], name);
    return this.add(name, { cells: values });
  }

  /** A list of 64-bit values (`/bits/ 64`), each two big-endian cells. */
  u64(name: string, ...values: bigint[]): this {
    const out = new Uint8Array(values.length * 8);
    const view = new DataView(out.buffer);
    values.forEach((v, i) => {
      if (v < 0n || v >= 1n << 64n) throw new FdtError('BADVALUE', `property ${name}: ${v} is not a u64`);
      view.setBigUint64(i * 8, v, false);
    });
    return this.add(name, out);
  }

  /** Raw value bytes (copied). */
  bytes(name: string, value: Uint8Array | readonly number[]): this {
    for (const b of value) {
      if (!Number.isInteger(b) || b < 0 || b > 0xff)
        throw new FdtError('BADVALUE', `property ${name}: ${b} is not a byte`);
    }
    return this.add(name, Uint8Array.from(value));
  }

  /** Adds a child node named `name` (`serial@9000000`) and fills it with `build`. */
  node(name: string, build: (node: DtNodeBuilder) => void = () => {}): this {
    checkName(name, 'node');
    if (this.draft.children.some((c) => c.name === name)) {
      throw new FdtError('EXISTS', `node ${name} already exists`, { path: this.draft.name || '/' });
    }
    const child: DtDraft = { name, props: [], children: [], labels: [] };
    this.draft.children.push(child);
    build(new DtNodeBuilder(child));
    return this;
  }
}

/** Options of {@link DeviceTreeBuilder.build}. */
export interface BuildOptions {
  /** Add `/__symbols__` (label → path) as `dtc -@` does. */
  readonly symbols?: boolean;
}

/**
 * Builds a {@link DeviceTree} in code: the root node's properties and children, labels and
 * `&label` references resolved to phandles, and `/memreserve/` entries. The result
 * serializes to a blob `dtc -I dtb` reads without errors.
 *
 * @example
 * const tree = new DeviceTreeBuilder()
 *   .root((r) => r.cells('#address-cells', 2).cells('#size-cells', 2).cells('interrupt-parent', ref('gic'))
 *     .node('intc@8000000', (n) => n.label('gic').string('compatible', 'arm,gic-400').flag('interrupt-controller')))
 *   .build();
 */
export class DeviceTreeBuilder {
  private readonly rootDraft: DtDraft = { name: '', props: [], children: [], labels: [] };
  private readonly reserves: DtReserveEntry[] = [];
  private bootCpu = 0;

  /** Fills the root node. May be called more than once. */
  root(build: (root: DtNodeBuilder) => void): this {
    build(new DtNodeBuilder(this.rootDraft));
    return this;
  }

  /** Adds a `/memreserve/` entry. */
  reserve(address: bigint, size: bigint): this {
    if (address < 0n || address >= 1n << 64n || size <= 0n || size >= 1n << 64n) {
      throw new FdtError('BADVALUE', `memreserve ${address}+${size} is not a u64 range with a non-zero size`);
    }
    this.reserves.push({ address, size });
    return this;
  }

  /** Sets the header's `boot_cpuid_phys`. */
  bootCpuidPhys(cpu: number): this {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu > 0xffffffff)
      throw new FdtError('BADVALUE', `boot_cpuid_phys ${cpu} is not a u32`);
    this.bootCpu = cpu;
    return this;
  }

  /** Resolves references and returns the tree (version 17, as dtc writes by default). */
  build(options: BuildOptions = {}): DeviceTree {
    rejectUnknownOptions(options, ['symbols'], 'DeviceTreeBuilder.build');
    const byLabel = new Map<string, { draft: DtDraft; path: string }>();
    const used = new Set<number>();
    const phandles = new Map<DtDraft, number>();
    const index = (draft: DtDraft, path: string): void => {
      for (const l of draft.labels) {
        if (byLabel.has(l)) throw new FdtError('EXISTS', `label ${l} is used twice`, { path });
        byLabel.set(l, { draft, path });
      }
      // A phandle set by hand (`.cells('phandle', 7)`) is kept, and never given to another node.
      const own = draft.props.find((p) => p.name === 'phandle');
      let v: number | undefined;
      if (own !== undefined && own.value instanceof Uint8Array && own.value.length === 4) {
        v = new DataView(own.value.buffer, own.value.byteOffset, 4).getUint32(0, false);
      } else if (own !== undefined && !(own.value instanceof Uint8Array) && own.value.cells.length === 1) {
        const cell = own.value.cells[0];
        if (typeof cell === 'number') v = cell;
      }
      if (v !== undefined) {
        if (used.has(v)) throw new FdtError('EXISTS', `phandle ${v} is set on two nodes`, { path });
        used.add(v);
        phandles.set(draft, v);
      }
      for (const c of draft.children) index(c, path === '/' ? `/${c.name}` : `${path}/${c.name}`);
    };
    index(this.rootDraft, '/');
    let next = 1;
    const phandleOf = (label: string, at: string): number => {
      const target = byLabel.get(label);
      if (target === undefined)
        throw new FdtError('BADPHANDLE', `reference to undefined label &${label}`, { path: at });
      let v = phandles.get(target.draft);
      if (v === undefined) {
        while (used.has(next)) next++;
        v = next;
        used.add(v);
        phandles.set(target.draft, v);
        target.draft.props.push({ name: 'phandle', value: u32Bytes([v], 'phandle') });
      }
      return v;
    };
    const freeze = (draft: DtDraft, path: string): DtNode => {
      const properties: DtProperty[] = draft.props.map((p) => {
        if (p.value instanceof Uint8Array) return { name: p.name, value: p.value };
        const cells = p.value.cells.map((c) => (typeof c === 'number' ? c : phandleOf(c.ref, path)));
        return { name: p.name, value: u32Bytes(cells, p.name) };
      });
      const children = draft.children.map((c) =>
        freeze(c, path === '/' ? `/${c.name}` : `${path}/${c.name}`),
      );
      return { name: draft.name, properties, children };
    };
    // Resolve every reference first (phandle properties are appended to their targets), then freeze.
    const resolve = (draft: DtDraft, path: string): void => {
      for (const p of draft.props)
        if (!(p.value instanceof Uint8Array))
          for (const c of p.value.cells) if (typeof c !== 'number') phandleOf(c.ref, path);
      for (const c of draft.children) resolve(c, path === '/' ? `/${c.name}` : `${path}/${c.name}`);
    };
    resolve(this.rootDraft, '/');
    // dtc.c runs the checks (reference fixups) before generate_label_tree(), which with -@
    // then gives every labelled node still without one a phandle, in tree order.
    if (options.symbols === true) for (const label of byLabel.keys()) phandleOf(label, '/__symbols__');
    const root = freeze(this.rootDraft, '/');
    const children = [...root.children];
    if (options.symbols === true && byLabel.size > 0) {
      const properties: DtProperty[] = [];
      for (const [label, { path }] of byLabel)
        properties.push({ name: label, value: encoder.encode(`${path}\0`) });
      children.push({ name: '__symbols__', properties, children: [] });
    }
    return {
      header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: this.bootCpu },
      reserveMap: [...this.reserves],
      root: { name: '', properties: root.properties, children },
    };
  }
}
