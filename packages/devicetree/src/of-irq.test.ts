import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFdtError } from './fdt-error.js';
import { findInterruptParent, parseIrq, parseIrqs } from './of-irq.js';
import { dtTree, type LiteralNode } from './of-literal.js';
import { OfTree } from './of-tree.js';

const GIC = {
  phandle: [1],
  compatible: 'arm,gic-400',
  'interrupt-controller': true,
  '#interrupt-cells': [3],
  '#address-cells': [0],
} as const;

function irqs(view: OfTree, path: string): [string, number[]][] {
  return parseIrqs(view, view.require(path)).map((spec) => [spec.controller.path, [...spec.args]]);
}

describe('interrupt-parent inheritance (drivers/of/irq.c: of_irq_find_parent)', () => {
  const view = OfTree.of(
    dtTree({
      props: { 'interrupt-parent': [1], '#address-cells': [1], '#size-cells': [1] },
      children: {
        'gic@0': { props: GIC },
        'gpio@1000': {
          props: {
            phandle: [2],
            'interrupt-controller': true,
            '#interrupt-cells': [2],
            interrupts: [0, 5, 4],
          },
        },
        'soc@0': {
          props: { ranges: true, '#address-cells': [1], '#size-cells': [1] },
          children: {
            'uart@100': { props: { reg: [0x100, 0x10], interrupts: [0, 10, 4, 1, 3, 8] } },
            'key@200': { props: { reg: [0x200, 4], 'interrupt-parent': [2], interrupts: [7, 2] } },
            'mixed@300': {
              props: { reg: [0x300, 4], 'interrupts-extended': [1, 0, 20, 4, 2, 3, 1] },
            },
          },
        },
      },
    }),
  );

  it('inherits the root interrupt-parent through ancestors without #interrupt-cells', () => {
    expect(findInterruptParent(view, view.require('/soc@0/uart@100'))?.path).toBe('/gic@0');
    expect(irqs(view, '/soc@0/uart@100')).toEqual([
      ['/gic@0', [0, 10, 4]],
      ['/gic@0', [1, 3, 8]],
    ]);
  });

  it('uses a node own interrupt-parent and that controller #interrupt-cells', () => {
    expect(irqs(view, '/soc@0/key@200')).toEqual([['/gpio@1000', [7, 2]]]);
  });

  it('interrupts-extended names a controller per entry', () => {
    expect(irqs(view, '/soc@0/mixed@300')).toEqual([
      ['/gic@0', [0, 20, 4]],
      ['/gpio@1000', [3, 1]],
    ]);
  });

  it('an index past the end, or a node without interrupts, has no interrupt', () => {
    expect(parseIrq(view, view.require('/soc@0/uart@100'), 2)).toBeUndefined();
    expect(parseIrq(view, view.require('/soc@0'), 0)).toBeUndefined();
    expect(parseIrq(view, view.require('/soc@0/uart@100'), -1)).toBeUndefined();
  });

  it('a controller node resolves its own interrupts through its parent', () => {
    expect(irqs(view, '/gpio@1000')).toEqual([['/gic@0', [0, 5, 4]]]);
  });
});

// A PCI-style nexus: #address-cells 3, #interrupt-cells 1, INTA..INTD swizzled by device.
const nexus: LiteralNode = {
  props: {
    'interrupt-parent': [1],
    '#address-cells': [1],
    '#size-cells': [1],
  },
  children: {
    'gic@0': { props: GIC },
    'gic-off@1': { props: { ...GIC, phandle: [3], status: 'disabled' } },
    'bridge@40000000': {
      props: {
        phandle: [2],
        '#address-cells': [3],
        '#size-cells': [2],
        '#interrupt-cells': [1],
        'interrupt-map-mask': [0x1800, 0, 0, 7],
        'interrupt-map': [
          // dev 0 INTA -> SPI 100 on a disabled GIC (never matches), then the live one
          0x0000, 0, 0, 1, 3, 0, 100, 4, 0x0000, 0, 0, 1, 1, 0, 100, 4, 0x0000, 0, 0, 2, 1, 0, 101, 4, 0x0800,
          0, 0, 1, 1, 0, 101, 4, 0x0800, 0, 0, 2, 1, 0, 102, 4,
        ],
      },
      children: {
        'dev@0,0': { props: { reg: [0x0000, 0, 0, 0, 0], interrupts: [1, 2] } },
        'dev@1,0': { props: { reg: [0x0800, 0, 0, 0, 0], interrupts: [1, 2] } },
        noreg: { props: { interrupts: [1] } },
      },
    },
  },
};

describe('interrupt-map nexus nodes (drivers/of/irq.c: of_irq_parse_raw, of_irq_parse_imap_parent)', () => {
  const view = OfTree.of(dtTree(nexus));

  it('matches (unit address, specifier) under interrupt-map-mask and takes the parent specifier', () => {
    expect(irqs(view, '/bridge@40000000/dev@0,0')).toEqual([
      ['/gic@0', [0, 100, 4]],
      ['/gic@0', [0, 101, 4]],
    ]);
    expect(irqs(view, '/bridge@40000000/dev@1,0')).toEqual([
      ['/gic@0', [0, 101, 4]],
      ['/gic@0', [0, 102, 4]],
    ]);
  });

  it('a node without reg matches as unit address 0 (the v6.11+ zero-filled addr_buf)', () => {
    expect(irqs(view, '/bridge@40000000/noreg')).toEqual([['/gic@0', [0, 100, 4]]]);
  });

  it('no matching entry ends the interrupt list with a typed error', () => {
    const t = OfTree.of(
      dtTree({
        ...nexus,
        children: {
          ...nexus.children,
          'bridge@40000000': {
            ...nexus.children!['bridge@40000000']!,
            children: { 'dev@2,0': { props: { reg: [0x1000, 0, 0, 0, 0], interrupts: [1] } } },
          },
        },
      }),
    );
    expect(() => parseIrq(t, t.require('/bridge@40000000/dev@2,0'), 0)).toThrow(
      expect.objectContaining({ code: 'NOTFOUND' }),
    );
  });

  it('an interrupt-map entry to the node itself ends the walk there (controller + nexus)', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          'intc@0': {
            props: {
              phandle: [1],
              'interrupt-controller': true,
              '#interrupt-cells': [1],
              '#address-cells': [0],
              'interrupt-map': [5, 1, 9],
            },
          },
          dev: { props: { 'interrupt-parent': [1], interrupts: [5] } },
        },
      }),
    );
    expect(irqs(t, '/dev')).toEqual([['/intc@0', [9]]]);
  });
});

// drivers/of/irq.c (v6.12) of_irq_parse_raw(): an interrupt-controller with an
// interrupt-map is a nexus; when no map entry matches, the walk fails (`goto fail`). The old
// fallback that returned the node as a plain controller is gone from mainline before v6.12.
describe('a controller with an interrupt-map that does not match (of_irq_parse_raw, v6.12)', () => {
  const controllerNexus = (compatible: string): OfTree =>
    OfTree.of(
      dtTree({
        props: { '#address-cells': [1], '#size-cells': [1] },
        children: {
          'gic@0': { props: GIC },
          'intc@1000': {
            props: {
              compatible,
              phandle: [2],
              'interrupt-controller': true,
              '#interrupt-cells': [1],
              '#address-cells': [0],
              'interrupt-parent': [1],
              'interrupt-map': [5, 1, 0, 40, 4],
            },
          },
          'hit@2000': { props: { reg: [0x2000, 4], 'interrupt-parent': [2], interrupts: [5] } },
          'miss@3000': { props: { reg: [0x3000, 4], 'interrupt-parent': [2], interrupts: [6] } },
        },
      }),
    );

  it('translates a matching specifier through the map', () => {
    const t = controllerNexus('vendor,intc');
    expect(irqs(t, '/hit@2000')).toEqual([['/gic@0', [0, 40, 4]]]);
  });

  it('fails on a specifier the map does not match, instead of stopping at the controller', () => {
    const t = controllerNexus('vendor,intc');
    expect(() => parseIrq(t, t.require('/miss@3000'), 0)).toThrow(
      expect.objectContaining({ code: 'NOTFOUND' }),
    );
  });

  // of_irq_imap_abusers[] ends with "pasemi,rootbus" (the PA Semi Nemo board, v6.12).
  it.each([
    'CBEA,platform-spider-pic',
    'sti,platform-spider-pic',
    'realtek,rtl-intc',
    'fsl,ls1021a-extirq',
    'fsl,ls1043a-extirq',
    'fsl,ls1088a-extirq',
    'renesas,rza1-irqc',
    'pasemi,rootbus',
  ])('ignores the interrupt-map of %s (of_irq_imap_abusers) and stops there', (compatible) => {
    const t = controllerNexus(compatible);
    expect(irqs(t, '/hit@2000')).toEqual([['/intc@1000', [5]]]);
    expect(irqs(t, '/miss@3000')).toEqual([['/intc@1000', [6]]]);
  });
});

describe('malformed interrupt trees never hang (typed errors)', () => {
  it('an interrupt-parent chain that loops is CYCLE', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          a: { props: { phandle: [1], 'interrupt-parent': [2] } },
          b: { props: { phandle: [2], 'interrupt-parent': [1] } },
          dev: { props: { 'interrupt-parent': [1], interrupts: [1] } },
        },
      }),
    );
    expect(() => parseIrq(t, t.require('/dev'), 0)).toThrow(expect.objectContaining({ code: 'CYCLE' }));
  });

  it('an interrupt-map walk that comes back is CYCLE', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          a: {
            props: {
              phandle: [1],
              '#interrupt-cells': [1],
              '#address-cells': [0],
              'interrupt-map': [0, 2, 0],
            },
          },
          b: {
            props: {
              phandle: [2],
              '#interrupt-cells': [1],
              '#address-cells': [0],
              'interrupt-map': [0, 1, 0],
            },
          },
          dev: { props: { 'interrupt-parent': [1], interrupts: [0] } },
        },
      }),
    );
    expect(() => parseIrq(t, t.require('/dev'), 0)).toThrow(expect.objectContaining({ code: 'CYCLE' }));
  });

  it('bad phandles and cell counts are BADPHANDLE / BADNCELLS', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          zero: { props: { phandle: [1], 'interrupt-controller': true, '#interrupt-cells': [0] } },
          dangling: { props: { 'interrupt-parent': [9], interrupts: [1] } },
          'zero-cells': { props: { 'interrupt-parent': [1], interrupts: [1] } },
          ext: { props: { 'interrupts-extended': [7, 1] } },
        },
      }),
    );
    expect(() => parseIrq(t, t.require('/dangling'), 0)).toThrow(
      expect.objectContaining({ code: 'BADPHANDLE' }),
    );
    expect(() => parseIrq(t, t.require('/zero-cells'), 0)).toThrow(
      expect.objectContaining({ code: 'BADNCELLS' }),
    );
    expect(() => parseIrq(t, t.require('/ext'), 0)).toThrow(expect.objectContaining({ code: 'BADPHANDLE' }));
  });

  it('random interrupt graphs resolve or throw FdtError, within bounded work', () => {
    const codes = new Set<string>();
    const nodeCount = 5;
    const props = fc.record(
      {
        parent: fc.integer({ min: 0, max: nodeCount + 1 }),
        cells: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        controller: fc.boolean(),
        map: fc.array(fc.integer({ min: 0, max: nodeCount + 1 }), { maxLength: 8 }),
        mask: fc.option(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), { nil: undefined }),
        addressCells: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      },
      { requiredKeys: ['parent', 'controller', 'map'] },
    );
    fc.assert(
      fc.property(
        fc.array(props, { minLength: nodeCount, maxLength: nodeCount }),
        fc.array(fc.nat(4), { maxLength: 6 }),
        (nodes, interrupts) => {
          const children: Record<string, LiteralNode> = {};
          nodes.forEach((n, i) => {
            children[`n${i}`] = {
              props: {
                phandle: [i + 1],
                'interrupt-parent': [n.parent],
                ...(n.cells === undefined ? {} : { '#interrupt-cells': [n.cells] }),
                ...(n.controller ? { 'interrupt-controller': true } : {}),
                ...(n.map.length > 0 ? { 'interrupt-map': n.map } : {}),
                ...(n.mask === undefined ? {} : { 'interrupt-map-mask': n.mask }),
                ...(n.addressCells === undefined ? {} : { '#address-cells': [n.addressCells] }),
              },
            };
          });
          children.dev = { props: { 'interrupt-parent': [1], interrupts } };
          const t = OfTree.of(dtTree({ children }));
          try {
            const list = parseIrqs(t, t.require('/dev'));
            for (const irq of list)
              expect(irq.controller.has('interrupt-controller') || irq.controller.has('interrupt-map')).toBe(
                true,
              );
          } catch (error) {
            expect(isFdtError(error)).toBe(true);
            if (isFdtError(error)) codes.add(error.code);
          }
        },
      ),
      // Cheap per case, and the cycles it looks for are rare: many runs.
      { numRuns: 1500 },
    );
    // The generator does reach the loops the kernel would hang on (not checked when a
    // single failing path is replayed with FC_PATH).
    if (process.env.FC_PATH === undefined) expect(codes.has('CYCLE')).toBe(true);
  });
});
