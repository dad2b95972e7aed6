// Semantic fuzzing: real trees with their references broken at random (dangling and cyclic
// phandles, interrupt-parent loops, interrupt-map garbage, odd cell counts). Resolution must
// answer or throw FdtError, never hang or throw anything else; population never throws.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFdtError } from './fdt-error.js';
import { parseFdt } from './index.js';
import { parseIrqs } from './of-irq.js';
import { cellBytes } from './of-literal.js';
import { OfTree } from './of-tree.js';
import { populate } from './populate.js';
import { FIXTURES_DIR } from './test-support/fixtures.js';
import type { DeviceTree, DtNode } from './tree.js';

const FIXTURES = `${FIXTURES_DIR}dtb/`;

const SEMANTIC_PROPERTIES = [
  'interrupt-parent',
  'interrupts',
  'interrupts-extended',
  'interrupt-map',
  'interrupt-map-mask',
  '#interrupt-cells',
  'interrupt-controller',
  '#address-cells',
  '#size-cells',
  'reg',
  'ranges',
  'phandle',
  'iommus',
  '#iommu-cells',
  'msi-parent',
  'clocks',
  'dmas',
  'status',
  'compatible',
  'dma-coherent',
  'interconnects',
  'interconnect-names',
  'mask',
];

interface Edit {
  readonly node: number;
  readonly property: string;
  readonly cells: readonly number[];
  readonly raw: Uint8Array | undefined;
}

function allNodes(root: DtNode): DtNode[] {
  const out: DtNode[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return out;
}

// A copy of `tree` with the edits applied (each replaces or adds one property).
function edited(tree: DeviceTree, edits: readonly Edit[]): DeviceTree {
  const nodes = allNodes(tree.root);
  const changes = new Map<DtNode, Edit[]>();
  for (const edit of edits) {
    const node = nodes[edit.node % nodes.length]!;
    changes.set(node, [...(changes.get(node) ?? []), edit]);
  }
  const rebuild = (node: DtNode): DtNode => {
    let properties = node.properties;
    for (const edit of changes.get(node) ?? []) {
      const value = edit.raw ?? cellBytes(edit.cells);
      properties = [...properties.filter((p) => p.name !== edit.property), { name: edit.property, value }];
    }
    return { name: node.name, properties, children: node.children.map(rebuild) };
  };
  return { ...tree, root: rebuild(tree.root) };
}

function fuzz(file: string, numRuns: number): void {
  const tree = parseFdt(new Uint8Array(readFileSync(`${FIXTURES}${file}`)));
  const view = OfTree.of(tree);
  const phandles = view.nodes.map((n) => view.phandleOf(n)).filter((p): p is number => p !== undefined);
  // Cells drawn mostly from real phandles and small counts, so references form cycles.
  const cell = fc.oneof(
    fc.constantFrom(...phandles),
    fc.integer({ min: 0, max: 5 }),
    fc.constant(0xffffffff),
  );
  const edit: fc.Arbitrary<Edit> = fc.record({
    node: fc.nat(),
    property: fc.constantFrom(...SEMANTIC_PROPERTIES),
    cells: fc.array(cell, { maxLength: 12 }),
    raw: fc.option(fc.uint8Array({ maxLength: 7 }), { nil: undefined, freq: 5 }),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
      const broken = edited(tree, edits);
      const result = populate(broken);
      expect(result.devices.every((d) => d.issues.every((e) => isFdtError(e)))).toBe(true);
      // Direct interrupt resolution on every node: answer or FdtError.
      const brokenView = OfTree.of(broken);
      for (const node of brokenView.nodes) {
        try {
          parseIrqs(brokenView, node);
        } catch (error) {
          expect(isFdtError(error)).toBe(true);
        }
      }
    }),
    { numRuns },
  );
}

describe('populate on randomly broken real trees', () => {
  it('foundation-v8-gicv3: never throws, resolution errors are FdtErrors', () => {
    fuzz('foundation-v8-gicv3.dtb', 400);
  });

  it('juno-r2: never throws, resolution errors are FdtErrors', () => {
    fuzz('juno-r2.dtb', 60);
  });
});
