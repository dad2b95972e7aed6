// Reference cycles built into the real fixture trees: the walks the kernel would never finish
// (drivers/of/irq.c: of_irq_find_parent() and of_irq_parse_raw() on interrupt-parent and
// interrupt-map loops; drivers/of/address.c: of_dma_is_coherent() on a DMA-parent loop;
// drivers/of/base.c: of_find_node_opts_by_path() on alias loops) end here with FdtError
// `CYCLE`, and population reports them as device issues instead of throwing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFdtError } from './fdt-error.js';
import { parseFdt } from './fdt-parse.js';
import { serializeFdt } from './fdt-serialize.js';
import { isDmaCoherent } from './of-dma.js';
import { findInterruptParent, parseIrqs } from './of-irq.js';
import { type OfNode, OfTree } from './of-tree.js';
import { populate } from './populate.js';
import { fixture } from './test-support/fixtures.js';
import { exerciseSemantics } from './test-support/semantics.js';
import { editTree, type TreeEdit } from './test-support/tree-edits.js';
import type { DeviceTree } from './tree.js';

const FILES = [
  'juno-r2.dtb',
  'calxeda-midway.dtb',
  'foundation-v8-gicv3.dtb',
  'qemu-virt-gicv2.dtb',
  'qemu-virt-gicv3-its-smmuv3.dtb',
];
const TREES = FILES.map((f) => parseFdt(fixture(f).blob));

function throwsCode(lookup: () => unknown, code: string): boolean {
  try {
    lookup();
    return false;
  } catch (error) {
    if (!isFdtError(error)) throw error;
    return error.code === code;
  }
}

/** The edited tree, through a blob and back (so the blob layer carries the cycle too), and the nodes of the ring by original pre-order index. */
function build(
  tree: DeviceTree,
  edit: TreeEdit,
): { edited: DeviceTree; view: OfTree; at: (i: number) => OfNode } {
  const edited = parseFdt(serializeFdt(editTree(tree, [edit]), { padding: 'none' }));
  const view = OfTree.of(edited);
  // editTree keeps pre-order positions (alias-loop appends at the end).
  const original = OfTree.of(tree).nodes.length;
  return { edited, view, at: (i) => view.nodes[i % original] as OfNode };
}

const tree = fc.nat({ max: TREES.length - 1 });
const index = fc.nat({ max: 0xffff });
const ring = fc.uniqueArray(index, { minLength: 1, maxLength: 4 });

describe('cycles in real trees end with FdtError CYCLE', () => {
  it('an interrupt-parent ring without #interrupt-cells: of_irq_find_parent() never ends; here CYCLE, and populate reports it', () => {
    fc.assert(
      fc.property(tree, ring, (t, nodes) => {
        const { edited, view, at } = build(TREES[t]!, { kind: 'irq-parent-ring', nodes, dropCells: true });
        const first = at(nodes[0]!);
        expect(throwsCode(() => findInterruptParent(view, first), 'CYCLE')).toBe(true);
        // Every node of the ring hits the loop too.
        for (const i of nodes) expect(throwsCode(() => findInterruptParent(view, at(i)), 'CYCLE')).toBe(true);
        if (!first.has('interrupts-extended')) {
          expect(throwsCode(() => parseIrqs(view, first), 'CYCLE')).toBe(true);
          const device = populate(edited).devices.find((d) => d.path === first.path);
          if (device !== undefined) {
            expect(device.irqs).toEqual([]);
            expect(device.issues.map((e) => e.code)).toContain('CYCLE');
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('an interrupt-parent pointing back up the chain (node → ancestor → node) is a CYCLE', () => {
    fc.assert(
      fc.property(tree, index, fc.integer({ min: 1, max: 4 }), (t, i, up) => {
        const { view, at } = build(TREES[t]!, { kind: 'irq-parent-up', node: i, up, dropCells: true });
        const node = at(i);
        fc.pre(node.parent !== undefined);
        expect(throwsCode(() => findInterruptParent(view, node), 'CYCLE')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('an interrupt-map ring of two or more nexus nodes: of_irq_parse_raw() loops; here CYCLE', () => {
    fc.assert(
      fc.property(tree, ring, (t, nodes) => {
        const { view, at } = build(TREES[t]!, { kind: 'imap-ring', nodes });
        const first = at(nodes[0]!);
        // of_irq_parse_raw(): an entry whose parent is unavailable never matches (match = 0),
        // and a nexus without interrupt-controller then fails the walk.
        if (!nodes.every((i) => at(i).available)) {
          expect(throwsCode(() => parseIrqs(view, first), 'NOTFOUND')).toBe(true);
        } else if (new Set(nodes.map(at)).size >= 2) {
          expect(throwsCode(() => parseIrqs(view, first), 'CYCLE')).toBe(true);
        } else {
          // One nexus (indexes may name the same node) mapping to itself: "interrupt-map
          // entry to self", it is the controller.
          expect(parseIrqs(view, first).map((irq) => irq.controller.path)).toEqual([first.path]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a DMA-parent ring through interconnects "dma-mem": of_dma_is_coherent() loops; here CYCLE', () => {
    fc.assert(
      fc.property(tree, ring, (t, nodes) => {
        const { view, at } = build(TREES[t]!, { kind: 'dma-ring', nodes });
        for (const i of nodes) expect(throwsCode(() => isDmaCoherent(view, at(i)), 'CYCLE')).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('aliases naming each other resolve to nothing, and every lookup still answers or throws FdtError', () => {
    for (const t of TREES) {
      const { edited, view } = build(t, { kind: 'alias-loop' });
      expect(view.find('fuzz-a')).toBeUndefined();
      expect(view.find('fuzz-c')).toBeUndefined();
      expect(() => exerciseSemantics(edited)).not.toThrow();
    }
  });

  it('a duplicated phandle: the first node in pre-order wins, as of_find_node_by_phandle() finds it', () => {
    fc.assert(
      fc.property(tree, index, index, (t, a, b) => {
        const original = OfTree.of(TREES[t]!);
        const source = original.nodes[a % original.nodes.length]!;
        const phandle = original.phandleOf(source);
        fc.pre(phandle !== undefined);
        const { view, at } = build(TREES[t]!, { kind: 'phandle', node: b, value: { node: a } });
        const target = at(b);
        const holders = view.nodes.filter((n) => view.phandleOf(n) === phandle);
        expect(holders).toContain(target);
        expect(view.nodeByPhandle(phandle!)).toBe(holders[0]);
      }),
      { numRuns: 100 },
    );
  });
});
