// drivers/of/irq.c (v6.12) of_irq_init(): which matched controllers are initialised, in which
// order, and which are left (their parent is never set up).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { irqchipInitOrder } from './of-irq-init.js';
import { dtTree, type LiteralNode, type LiteralValue } from './of-literal.js';
import { OfTree } from './of-tree.js';

const intc = (
  compatible: string,
  phandle: number,
  extra: Record<string, LiteralValue> = {},
): LiteralNode => ({
  props: { compatible, phandle: [phandle], 'interrupt-controller': true, '#interrupt-cells': [1], ...extra },
});

const order = (tree: OfTree, compatibles: readonly string[]): string[] =>
  irqchipInitOrder(tree, compatibles).map((node) => node.path);

describe('irqchipInitOrder (of_irq_init)', () => {
  it('initialises roots first, then children level by level, siblings in tree order', () => {
    const tree = OfTree.of(
      dtTree({
        props: { 'interrupt-parent': [1] },
        children: {
          grandchild: intc('x,intc', 4, { 'interrupt-parent': [3] }),
          child2: intc('x,intc', 3, { 'interrupt-parent': [1] }),
          child1: intc('x,intc', 2, { 'interrupts-extended': [1, 5] }),
          root: intc('x,intc', 1),
        },
      }),
    );
    expect(order(tree, ['x,intc'])).toEqual(['/root', '/child2', '/child1', '/grandchild']);
  });

  it('takes the first interrupts-extended phandle as the parent, before interrupt-parent', () => {
    const tree = OfTree.of(
      dtTree({
        children: {
          a: intc('x,intc', 1),
          b: intc('y,other', 2),
          c: intc('x,intc', 3, { 'interrupts-extended': [1, 7], 'interrupt-parent': [2] }),
        },
      }),
    );
    expect(order(tree, ['x,intc'])).toEqual(['/a', '/c']);
  });

  it('leaves out unmatched, unavailable and non-controller nodes, and controllers stranded below them', () => {
    const tree = OfTree.of(
      dtTree({
        children: {
          gic: intc('x,intc', 1),
          platform: intc('y,platform-intc', 2, { 'interrupt-parent': [1] }),
          stranded: intc('x,intc', 3, { 'interrupt-parent': [2] }),
          off: intc('x,intc', 4, { status: 'disabled' }),
          below: intc('x,intc', 5, { 'interrupt-parent': [4] }),
          plain: { props: { compatible: 'x,intc', phandle: [6], '#interrupt-cells': [1] } },
        },
      }),
    );
    expect(order(tree, ['x,intc'])).toEqual(['/gic']);
  });

  it('a self-referencing or dangling interrupt parent makes a root; an interrupt-parent loop is left out', () => {
    const tree = OfTree.of(
      dtTree({
        children: {
          self: intc('x,intc', 1, { 'interrupt-parent': [1] }),
          dangling: intc('x,intc', 2, { 'interrupt-parent': [0x77] }),
          // Two nodes without #interrupt-cells pointing at each other: of_irq_find_parent()
          // would never return; the model leaves the controller uninitialised.
          loop: intc('x,intc', 3, { 'interrupt-parent': [10] }),
          n10: { props: { phandle: [10], 'interrupt-parent': [11] } },
          n11: { props: { phandle: [11], 'interrupt-parent': [10] } },
        },
      }),
    );
    expect(order(tree, ['x,intc'])).toEqual(['/self', '/dangling']);
  });

  it('matches compatibles case-insensitively, as of_device_is_compatible does', () => {
    const tree = OfTree.of(dtTree({ children: { a: intc('ARM,GIC-400', 1) } }));
    expect(order(tree, ['arm,gic-400'])).toEqual(['/a']);
  });

  it('property: every returned controller comes after its parent, and a chain from a root is complete', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(12), { minLength: 1, maxLength: 12 }), (parents) => {
        // Node i (phandle i + 1) has parent parents[i] (a phandle; 0 or itself = root).
        const children: Record<string, LiteralNode> = {};
        parents.forEach((parent, i) => {
          children[`n${i}`] = intc('x,intc', i + 1, parent === 0 ? {} : { 'interrupt-parent': [parent] });
        });
        const tree = OfTree.of(dtTree({ children }));
        const result = irqchipInitOrder(tree, ['x,intc']).map((node) => Number(node.path.slice(2)));
        const position = new Map(result.map((n, at) => [n, at]));
        const parentOf = (i: number): number | null => {
          const p = parents[i]!;
          return p === 0 || p === i + 1 || p > parents.length ? null : p - 1;
        };
        for (const n of result) {
          const p = parentOf(n);
          if (p !== null) expect(position.get(p)).toBeLessThan(position.get(n)!);
        }
        // Reachable from a root (following parents ends at a root without a loop) ⇔ returned.
        for (let i = 0; i < parents.length; i++) {
          const seen = new Set<number>();
          let at: number | null = i;
          while (at !== null && !seen.has(at)) {
            seen.add(at);
            at = parentOf(at);
          }
          expect(position.has(i)).toBe(at === null);
        }
      }),
    );
  });
});
