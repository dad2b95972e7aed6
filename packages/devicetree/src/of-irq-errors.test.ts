// The error paths of drivers/of/irq.c's walk (of_irq_parse_raw, of_irq_parse_one,
// of_irq_parse_imap_parent) one by one: each ends with a typed FdtError naming the node, where
// the kernel returns an error. Written for the survivors of `npm run mutate -- devicetree`.
import { describe, expect, it } from 'vitest';
import { type FdtError, isFdtError } from './fdt-error.js';
import { translateAddress } from './of-address.js';
import { IORESOURCE_IO, IORESOURCE_MEM, matchBus } from './of-bus.js';
import { findInterruptParent, parseIrq, parseIrqRaw, parseIrqs } from './of-irq.js';
import { irqchipInitOrder } from './of-irq-init.js';
import { dtTree, type LiteralNode, type LiteralValue } from './of-literal.js';
import { OfTree } from './of-tree.js';

function errorOf(run: () => unknown): FdtError {
  try {
    run();
  } catch (error) {
    if (isFdtError(error)) return error;
    throw error;
  }
  throw new RangeError('no error');
}

const GIC = {
  phandle: [1],
  'interrupt-controller': true,
  '#interrupt-cells': [3],
  '#address-cells': [0],
} as const;

const node = (props: Record<string, LiteralValue>, children?: Record<string, LiteralNode>): LiteralNode =>
  children === undefined ? { props } : { props, children };

describe('of_irq_parse_raw error paths', () => {
  it('a specifier of the wrong size is BADNCELLS at the device', () => {
    const t = OfTree.of(dtTree({ children: { gic: node(GIC), dev: node({ 'interrupt-parent': [1] }) } }));
    const error = errorOf(() =>
      parseIrqRaw(t, [], { controller: t.require('/gic'), args: [0, 1] }, t.require('/dev')),
    );
    expect(error.code).toBe('BADNCELLS');
    expect(error.path).toBe('/dev');
  });

  it('no #interrupt-cells anywhere above the specifier node is NOTFOUND', () => {
    const t = OfTree.of(dtTree({ children: { a: node({}), dev: node({}) } }));
    const error = errorOf(() =>
      parseIrqRaw(t, [], { controller: t.require('/a'), args: [1] }, t.require('/dev')),
    );
    expect(error.code).toBe('NOTFOUND');
    expect(error.path).toBe('/dev');
  });

  it('#address-cells + #interrupt-cells above MAX_PHANDLE_ARGS (16) is refused; 16 is fine', () => {
    const tree = (cells: number): OfTree =>
      OfTree.of(
        dtTree({
          children: {
            intc: node({
              phandle: [1],
              'interrupt-controller': true,
              '#interrupt-cells': [cells],
              '#address-cells': [2],
            }),
          },
        }),
      );
    const big = tree(15);
    expect(
      errorOf(() =>
        parseIrqRaw(big, [0, 0], { controller: big.require('/intc'), args: Array(15).fill(0) }, big.root),
      ).code,
    ).toBe('BADNCELLS');
    const fits = tree(14);
    expect(
      parseIrqRaw(fits, [0, 0], { controller: fits.require('/intc'), args: Array(14).fill(0) }, fits.root)
        .args,
    ).toHaveLength(14);
  });

  it('a node with #interrupt-cells, no map and nothing above it is NOTFOUND', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          nexus: node({ phandle: [2], '#interrupt-cells': [1], '#address-cells': [0] }),
          dev: node({ 'interrupt-parent': [2], interrupts: [3] }),
        },
      }),
    );
    const error = errorOf(() => parseIrq(t, t.require('/dev'), 0));
    expect(error.code).toBe('NOTFOUND');
    expect(error.message).toContain('no interrupt controller above /nexus');
  });

  it('a walk through a plain #interrupt-cells node without a map goes on to its parent', () => {
    const t = OfTree.of(
      dtTree({
        props: { 'interrupt-parent': [1] },
        children: {
          gic: node(GIC),
          bridge: node({ phandle: [2], '#interrupt-cells': [3], '#address-cells': [0] }),
          dev: node({ 'interrupt-parent': [2], interrupts: [0, 9, 4] }),
        },
      }),
    );
    expect(parseIrq(t, t.require('/dev'), 0)?.controller.path).toBe('/gic');
  });
});

describe('interrupt-map entries (of_irq_parse_imap_parent)', () => {
  const withMap = (map: number[], extra: Record<string, LiteralNode> = {}): OfTree =>
    OfTree.of(
      dtTree({
        children: {
          gic: node(GIC),
          wide: node({
            phandle: [3],
            'interrupt-controller': true,
            '#interrupt-cells': [1],
            '#address-cells': [1],
          }),
          nocells: node({ phandle: [4], 'interrupt-controller': true }),
          nexus: node({ phandle: [2], '#interrupt-cells': [1], '#address-cells': [0], 'interrupt-map': map }),
          dev: node({ 'interrupt-parent': [2], interrupts: [7] }),
          ...extra,
        },
      }),
    );

  it('reads the parent unit address cells of an entry (#address-cells of the parent)', () => {
    const t = withMap([7, 3, 0xabc, 42]);
    const spec = parseIrq(t, t.require('/dev'), 0);
    expect(spec?.controller.path).toBe('/wide');
    expect(spec?.args).toEqual([42]);
  });

  it('an unknown phandle before the match is BADPHANDLE; after the match it is never read', () => {
    const bad = withMap([5, 0x99, 0, 7, 1, 0, 40, 4]);
    const error = errorOf(() => parseIrq(bad, bad.require('/dev'), 0));
    expect(error.code).toBe('BADPHANDLE');
    expect(error.message).toContain('interrupt-map of /nexus: no node has phandle 0x99');
    const late = withMap([7, 1, 0, 40, 4, 5, 0x99, 0]);
    expect(parseIrq(late, late.require('/dev'), 0)?.args).toEqual([0, 40, 4]);
  });

  it('a parent without #interrupt-cells is BADNCELLS; a truncated entry is BADVALUE', () => {
    const nocells = withMap([5, 4, 1, 7, 1, 0, 40, 4]);
    const error = errorOf(() => parseIrq(nocells, nocells.require('/dev'), 0));
    expect(error.code).toBe('BADNCELLS');
    expect(error.message).toContain('/nocells has no #interrupt-cells');
    const truncated = withMap([7, 1, 0, 40]);
    expect(errorOf(() => parseIrq(truncated, truncated.require('/dev'), 0)).code).toBe('BADVALUE');
  });

  it('an entry needs more than child size + 1 cells left to be read at all', () => {
    // Two cells: child specifier (1) + phandle: the scan stops before it, nothing matches.
    const short = withMap([7, 1]);
    expect(errorOf(() => parseIrq(short, short.require('/dev'), 0)).code).toBe('NOTFOUND');
  });

  it('interrupt-map-mask masks the child specifier; no mask compares every bit', () => {
    const masked = OfTree.of(
      dtTree({
        children: {
          gic: node(GIC),
          nexus: node({
            phandle: [2],
            '#interrupt-cells': [1],
            '#address-cells': [0],
            'interrupt-map': [0x10, 1, 0, 50, 4],
            'interrupt-map-mask': [0xf0],
          }),
          dev: node({ 'interrupt-parent': [2], interrupts: [0x17] }),
        },
      }),
    );
    expect(parseIrq(masked, masked.require('/dev'), 0)?.args).toEqual([0, 50, 4]);
    const exact = withMap([0x10, 1, 0, 50, 4]);
    expect(errorOf(() => parseIrq(exact, exact.require('/dev'), 0)).code).toBe('NOTFOUND');
  });
});

describe('of_irq_parse_one input errors', () => {
  it('interrupts under a parent with an unreadable or zero #interrupt-cells is BADNCELLS', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          short: {
            props: { phandle: [1], 'interrupt-controller': true, '#interrupt-cells': new Uint8Array(2) },
          },
          zero: node({ phandle: [2], 'interrupt-controller': true, '#interrupt-cells': [0] }),
          a: node({ 'interrupt-parent': [1], interrupts: [1] }),
          b: node({ 'interrupt-parent': [2], interrupts: [1] }),
        },
      }),
    );
    const a = errorOf(() => parseIrqs(t, t.require('/a')));
    expect([a.code, a.path]).toEqual(['BADNCELLS', '/a']);
    const b = errorOf(() => parseIrqs(t, t.require('/b')));
    expect([b.code, b.path]).toEqual(['BADNCELLS', '/b']);
    expect(b.message).toContain('has #interrupt-cells = 0');
  });

  it('interrupt-parent naming no node is BADPHANDLE at the node; a loop is CYCLE at the start', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          dangling: node({ 'interrupt-parent': [0x55] }),
          x: node({ phandle: [10], 'interrupt-parent': [11] }),
          y: node({ phandle: [11], 'interrupt-parent': [10] }),
          start: node({ 'interrupt-parent': [10] }),
        },
      }),
    );
    const dangling = errorOf(() => findInterruptParent(t, t.require('/dangling')));
    expect([dangling.code, dangling.path]).toEqual(['BADPHANDLE', '/dangling']);
    expect(dangling.message).toContain('interrupt-parent 0x55 names no node');
    const loop = errorOf(() => findInterruptParent(t, t.require('/start')));
    expect([loop.code, loop.path]).toEqual(['CYCLE', '/start']);
  });

  it('interrupts-extended entries win; a broken one with no interrupts fallback is the error', () => {
    const t = OfTree.of(
      dtTree({
        props: { 'interrupt-parent': [1] },
        children: {
          gic: node(GIC),
          good: node({ 'interrupts-extended': [1, 0, 5, 4], interrupts: [0, 6, 4] }),
          broken: node({ 'interrupts-extended': [1, 0, 5, 4, 0x77, 1] }),
          fallback: node({ 'interrupts-extended': [0x77, 1], interrupts: [0, 6, 4] }),
        },
      }),
    );
    expect(parseIrqs(t, t.require('/good')).map((s) => s.args)).toEqual([[0, 5, 4]]);
    expect(parseIrq(t, t.require('/broken'), 0)?.args).toEqual([0, 5, 4]);
    expect(errorOf(() => parseIrq(t, t.require('/broken'), 1)).code).toBe('BADPHANDLE');
    expect(parseIrq(t, t.require('/fallback'), 0)?.args).toEqual([0, 6, 4]);
  });
});

describe('of_irq_init parent choice', () => {
  it('an interrupts-extended phandle that names no node falls back to interrupt-parent', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          a: node({
            compatible: 'x,intc',
            phandle: [1],
            'interrupt-controller': true,
            '#interrupt-cells': [1],
          }),
          b: node({
            compatible: 'y,other',
            phandle: [2],
            'interrupt-controller': true,
            '#interrupt-cells': [1],
          }),
          c: node({
            compatible: 'x,intc',
            phandle: [3],
            'interrupt-controller': true,
            '#interrupt-cells': [1],
            'interrupts-extended': [0x99, 1],
            'interrupt-parent': [2],
          }),
        },
      }),
    );
    // c's parent is b (not initialised), so c is stranded.
    expect(irqchipInitOrder(t, ['x,intc']).map((n) => n.path)).toEqual(['/a']);
  });
});

describe('bus translators (drivers/of/address.c)', () => {
  const tree = OfTree.of(
    dtTree({
      props: { '#address-cells': [2], '#size-cells': [2] },
      children: {
        'pci@0': node({ device_type: 'pciex', '#address-cells': [3], '#size-cells': [2] }),
        'vci@0': node({ device_type: 'vci', '#address-cells': [3], '#size-cells': [2] }),
        'ht@0': node({ device_type: 'ht', '#address-cells': [3], '#size-cells': [2] }),
        'other@0': node({ device_type: 'memory', '#address-cells': [1], '#size-cells': [1] }),
        'bus@0': node(
          { '#address-cells': [1], '#size-cells': [1], ranges: [0x1000, 0x1, 0x0, 0x100] },
          { 'dev@1000': node({ reg: [0x1000, 4] }) },
        ),
      },
    }),
  );

  it('PCI by device_type pci, pciex, vci or ht; any other device_type is a default bus', () => {
    for (const path of ['/pci@0', '/vci@0', '/ht@0']) expect(matchBus(tree.require(path))?.name).toBe('pci');
    expect(matchBus(tree.require('/other@0'))?.name).toBe('default');
  });

  it('PCI flags: I/O, 32-bit and 64-bit memory space, prefetchable', () => {
    const pci = matchBus(tree.require('/pci@0'))!;
    expect(pci.flags([0x01000000, 0, 0])).toBe(IORESOURCE_IO);
    expect(pci.flags([0x02000000, 0, 0])).toBe(IORESOURCE_MEM);
    expect(pci.flags([0x03000000, 0, 0])).toBe(IORESOURCE_MEM | 0x100000);
    expect(pci.flags([0x42000000, 0, 0])).toBe(IORESOURCE_MEM | 0x2000);
    expect(pci.flags([0x00000000, 0, 0])).toBe(0);
  });

  it('a window holds [child base, child base + size): first byte in, end out; 2-cell parents get the high word', () => {
    const dev = tree.require('/bus@0/dev@1000');
    expect(translateAddress(dev, [0x1000])).toBe(0x1_0000_0000n);
    expect(translateAddress(dev, [0x10ff])).toBe(0x1_0000_00ffn);
    expect(translateAddress(dev, [0x1100])).toBeUndefined();
    expect(translateAddress(dev, [0xfff])).toBeUndefined();
  });
});
