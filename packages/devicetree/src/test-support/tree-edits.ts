// Structural mutations of real trees for the fuzz tests: reference cycles the kernel would
// walk forever (interrupt-parent rings and chains pointing back up the tree, interrupt-map
// rings, DMA-parent rings through `interconnects`, alias loops), duplicate and invalid
// phandles, and reference properties rewritten with real phandles and garbage.
import fc from 'fast-check';
import { cellBytes, stringBytes } from '../of-literal.js';
import type { DeviceTree, DtNode, DtProperty } from '../tree.js';

/** A cell of a rewritten reference: the phandle of a node (by pre-order index) or a raw value. */
export type EditCell = { readonly node: number } | { readonly raw: number };

/** One structural edit; node indexes are pre-order positions taken modulo the node count. */
export type TreeEdit =
  /** `interrupt-parent` of each node names the next, the last names the first. */
  | { readonly kind: 'irq-parent-ring'; readonly nodes: readonly number[]; readonly dropCells: boolean }
  /** `node` names its ancestor `up` levels above as interrupt parent, and the ancestor names `node`. */
  | {
      readonly kind: 'irq-parent-up';
      readonly node: number;
      readonly up: number;
      readonly dropCells: boolean;
    }
  /** Each node is an interrupt nexus whose `interrupt-map` sends everything to the next. */
  | { readonly kind: 'imap-ring'; readonly nodes: readonly number[] }
  /** Each node's DMA parent (`interconnects` named `dma-mem`) is the next. */
  | { readonly kind: 'dma-ring'; readonly nodes: readonly number[] }
  /** Two aliases naming each other, and one naming itself. */
  | { readonly kind: 'alias-loop' }
  /** `node`'s phandle becomes another node's (a duplicate), 0 or 0xffffffff. */
  | { readonly kind: 'phandle'; readonly node: number; readonly value: EditCell }
  /** A reference property of `node` rewritten with `cells`. */
  | {
      readonly kind: 'ref';
      readonly node: number;
      readonly property: string;
      readonly cells: readonly EditCell[];
    };

/** The reference properties rewritten by `ref` edits. */
export const REFERENCE_PROPERTIES: readonly string[] = [
  'interrupt-parent',
  'interrupts',
  'interrupts-extended',
  'interrupt-map',
  'interrupt-map-mask',
  '#interrupt-cells',
  '#address-cells',
  'iommus',
  '#iommu-cells',
  'msi-parent',
  '#msi-cells',
  'dmas',
  'clocks',
  'resets',
  'power-domains',
  'interconnects',
  'ranges',
  'reg',
];

const index = fc.nat({ max: 0xffff });
const ring = fc.array(index, { minLength: 1, maxLength: 4 });
const cell: fc.Arbitrary<EditCell> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ node: index }) },
  { weight: 2, arbitrary: fc.record({ raw: fc.constantFrom(0, 1, 2, 3, 4, 0xffffffff) }) },
  { weight: 1, arbitrary: fc.record({ raw: fc.nat({ max: 0xffffffff }) }) },
);

/** Arbitrary structural edits. */
export const arbitraryTreeEdit: fc.Arbitrary<TreeEdit> = fc.oneof(
  fc.record({ kind: fc.constant('irq-parent-ring' as const), nodes: ring, dropCells: fc.boolean() }),
  fc.record({
    kind: fc.constant('irq-parent-up' as const),
    node: index,
    up: fc.integer({ min: 1, max: 4 }),
    dropCells: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('imap-ring' as const), nodes: ring }),
  fc.record({ kind: fc.constant('dma-ring' as const), nodes: ring }),
  fc.record({ kind: fc.constant('alias-loop' as const) }),
  fc.record({
    kind: fc.constant('phandle' as const),
    node: index,
    value: fc.oneof(fc.record({ node: index }), fc.record({ raw: fc.constantFrom(0, 0xffffffff) })),
  }),
  fc.record({
    kind: fc.constant('ref' as const),
    node: index,
    property: fc.constantFrom(...REFERENCE_PROPERTIES),
    cells: fc.array(cell, { maxLength: 10 }),
  }),
);

interface MutableNode {
  readonly name: string;
  readonly properties: DtProperty[];
  readonly children: MutableNode[];
  readonly parent: MutableNode | undefined;
}

function u32(property: DtProperty | undefined): number | undefined {
  if (property === undefined || property.value.length < 4) return undefined;
  return new DataView(property.value.buffer, property.value.byteOffset, 4).getUint32(0);
}

class Editor {
  readonly nodes: MutableNode[] = [];
  readonly root: MutableNode;
  #nextPhandle = 1;

  constructor(root: DtNode) {
    const copy = (node: DtNode, parent: MutableNode | undefined): MutableNode => {
      const out: MutableNode = { name: node.name, properties: [...node.properties], children: [], parent };
      this.nodes.push(out);
      for (const child of node.children) out.children.push(copy(child, out));
      return out;
    };
    this.root = copy(root, undefined);
    for (const node of this.nodes) {
      const phandle = this.#existingPhandle(node) ?? 0;
      if (phandle !== 0xffffffff && phandle >= this.#nextPhandle) this.#nextPhandle = phandle + 1;
    }
  }

  at(i: number): MutableNode {
    return this.nodes[i % this.nodes.length] as MutableNode;
  }

  #existingPhandle(node: MutableNode): number | undefined {
    const phandle = u32(node.properties.find((p) => p.name === 'phandle'));
    return phandle ?? u32(node.properties.find((p) => p.name === 'linux,phandle'));
  }

  /** The node's phandle, giving it a fresh one when it has none (or 0). */
  phandle(node: MutableNode): number {
    const existing = this.#existingPhandle(node);
    if (existing !== undefined && existing !== 0) return existing;
    const fresh = this.#nextPhandle++;
    this.set(node, 'phandle', cellBytes([fresh]));
    return fresh;
  }

  cell(c: EditCell): number {
    return 'raw' in c ? c.raw : this.phandle(this.at(c.node));
  }

  set(node: MutableNode, name: string, value: Uint8Array): void {
    const i = node.properties.findIndex((p) => p.name === name);
    if (i < 0) node.properties.push({ name, value });
    else node.properties[i] = { name, value };
  }

  remove(node: MutableNode, ...names: string[]): void {
    for (const name of names) {
      const i = node.properties.findIndex((p) => p.name === name);
      if (i >= 0) node.properties.splice(i, 1);
    }
  }

  distinct(indexes: readonly number[]): MutableNode[] {
    return [...new Set(indexes.map((i) => this.at(i)))];
  }

  freeze(node: MutableNode = this.root): DtNode {
    return {
      name: node.name,
      properties: node.properties,
      children: node.children.map((c) => this.freeze(c)),
    };
  }
}

function apply(editor: Editor, edit: TreeEdit): void {
  switch (edit.kind) {
    case 'irq-parent-ring': {
      const nodes = editor.distinct(edit.nodes);
      const phandles = nodes.map((n) => editor.phandle(n));
      nodes.forEach((node, i) => {
        editor.set(node, 'interrupt-parent', cellBytes([phandles[(i + 1) % nodes.length] as number]));
        // Without #interrupt-cells no node of the ring ends of_irq_find_parent()'s walk.
        if (edit.dropCells) editor.remove(node, '#interrupt-cells', 'interrupt-controller', 'interrupt-map');
      });
      // Something in the ring asks for an interrupt, so the walk is taken.
      if (!nodes[0]!.properties.some((p) => p.name === 'interrupts'))
        editor.set(nodes[0]!, 'interrupts', cellBytes([0, 1, 4]));
      break;
    }
    case 'irq-parent-up': {
      const node = editor.at(edit.node);
      let ancestor: MutableNode | undefined = node;
      for (let i = 0; i < edit.up && ancestor?.parent !== undefined; i++) ancestor = ancestor.parent;
      if (ancestor === undefined || ancestor === node) break;
      editor.set(node, 'interrupt-parent', cellBytes([editor.phandle(ancestor)]));
      editor.set(ancestor, 'interrupt-parent', cellBytes([editor.phandle(node)]));
      if (edit.dropCells) {
        editor.remove(node, '#interrupt-cells', 'interrupt-controller', 'interrupt-map');
        editor.remove(ancestor, '#interrupt-cells', 'interrupt-controller', 'interrupt-map');
      }
      break;
    }
    case 'imap-ring': {
      const nodes = editor.distinct(edit.nodes);
      const phandles = nodes.map((n) => editor.phandle(n));
      nodes.forEach((node, i) => {
        // Child specifier: 0 address cells + 1 interrupt cell, masked to 0, so every
        // specifier matches; the parent is the next nexus with 0 address cells, 1 cell.
        editor.set(node, '#interrupt-cells', cellBytes([1]));
        editor.set(node, '#address-cells', cellBytes([0]));
        editor.set(node, 'interrupt-map-mask', cellBytes([0]));
        editor.set(node, 'interrupt-map', cellBytes([0, phandles[(i + 1) % nodes.length] as number, 0]));
        editor.remove(node, 'interrupt-controller');
      });
      const first = nodes[0]!;
      // of_irq_parse_one() prefers interrupts-extended; take the interrupt-map path.
      editor.remove(first, 'interrupts-extended');
      editor.set(first, 'interrupt-parent', cellBytes([phandles[1 % nodes.length] as number]));
      editor.set(first, 'interrupts', cellBytes([0]));
      break;
    }
    case 'dma-ring': {
      const nodes = editor.distinct(edit.nodes);
      const phandles = nodes.map((n) => editor.phandle(n));
      nodes.forEach((node, i) => {
        editor.set(node, '#interconnect-cells', cellBytes([0]));
        editor.set(node, 'interconnects', cellBytes([phandles[(i + 1) % nodes.length] as number]));
        editor.set(node, 'interconnect-names', stringBytes(['dma-mem']));
        editor.remove(node, 'dma-coherent', 'dma-noncoherent');
      });
      break;
    }
    case 'alias-loop': {
      let aliases = editor.root.children.find((c) => c.name === 'aliases');
      if (aliases === undefined) {
        aliases = { name: 'aliases', properties: [], children: [], parent: editor.root };
        editor.root.children.push(aliases);
        editor.nodes.push(aliases);
      }
      editor.set(aliases, 'fuzz-a', stringBytes(['fuzz-b']));
      editor.set(aliases, 'fuzz-b', stringBytes(['fuzz-a/x']));
      editor.set(aliases, 'fuzz-c', stringBytes(['fuzz-c']));
      break;
    }
    case 'phandle': {
      const value = editor.cell(edit.value);
      const node = editor.at(edit.node);
      editor.remove(node, 'linux,phandle');
      editor.set(node, 'phandle', cellBytes([value]));
      break;
    }
    case 'ref': {
      const node = editor.at(edit.node);
      editor.set(node, edit.property, cellBytes(edit.cells.map((c) => editor.cell(c))));
      break;
    }
  }
}

/** `tree` with `edits` applied in order (the input is not changed). */
export function editTree(tree: DeviceTree, edits: readonly TreeEdit[]): DeviceTree {
  if (edits.length === 0) return tree;
  const editor = new Editor(tree.root);
  for (const edit of edits) apply(editor, edit);
  return { ...tree, root: editor.freeze() };
}
