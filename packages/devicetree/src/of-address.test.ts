import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressResources, addressToResource, regEntries, translateAddress } from './of-address.js';
import { matchBus } from './of-bus.js';
import { dtTree, type LiteralNode } from './of-literal.js';
import { OfTree } from './of-tree.js';

// A typical 64-bit SoC: root 2/2, a simple-bus with 1/1 children mapped at 0x1_0000_0000.
const soc = OfTree.of(
  dtTree({
    props: { '#address-cells': [2], '#size-cells': [2], ranges: [0, 0xdead, 0, 0, 0, 0x1000] },
    children: {
      'memory@80000000': { props: { reg: [0, 0x80000000, 1, 0] } },
      'soc@100000000': {
        props: {
          '#address-cells': [1],
          '#size-cells': [1],
          ranges: [0x0, 0x1, 0x0, 0x10000000, 0x20000000, 0x0, 0x20000000, 0x1000],
        },
        children: {
          'uart@1000': { props: { reg: [0x1000, 0x100, 0x2000, 0x100], 'reg-names': ['regs', 'fifo'] } },
          'dma@20000000': { props: { reg: [0x20000000, 0x1000] } },
          'outside@30000000': { props: { reg: [0x30000000, 0x10] } },
          'split@fff0': { props: { reg: [0xfff0, 0x10, 0x30000000, 0x10, 0x2000, 0x10] } },
          'short@0': { props: { reg: [0x10] } },
        },
      },
      'opaque@0': {
        props: { '#address-cells': [1], '#size-cells': [1] },
        children: { 'dev@10': { props: { reg: [0x10, 4] } } },
      },
      'flat@0': {
        props: { '#address-cells': [1], '#size-cells': [1], ranges: true },
        children: { 'dev@40': { props: { reg: [0x40, 4] } } },
      },
      'nosize@0': {
        props: { '#address-cells': [1], '#size-cells': [0], ranges: true },
        children: { 'cpu@1': { props: { reg: [1] } } },
      },
    },
  }),
);

function resource(path: string, index = 0): [string, string] | undefined {
  const r = addressToResource(soc.require(path), index);
  return r === undefined ? undefined : [r.address.toString(16), r.size.toString(16)];
}

describe('reg decoding (drivers/of/address.c: __of_get_address)', () => {
  it('splits reg by the parent bus cell counts into u64 bigints', () => {
    const [entry] = regEntries(soc.require('/memory@80000000'));
    expect(entry).toMatchObject({ index: 0, address: 0x80000000n, size: 0x1_0000_0000n });
    expect(regEntries(soc.require('/soc@100000000/uart@1000')).map((e) => [e.address, e.size])).toEqual([
      [0x1000n, 0x100n],
      [0x2000n, 0x100n],
    ]);
  });

  it('ignores a partial trailing entry', () => {
    expect(regEntries(soc.require('/soc@100000000/short@0'))).toEqual([]);
  });
});

describe('translation (drivers/of/address.c: of_translate_address)', () => {
  it('applies each bus ranges window up to the root; the root ranges is not consulted', () => {
    expect(resource('/memory@80000000')).toEqual(['80000000', '100000000']);
    expect(resource('/soc@100000000/uart@1000')).toEqual(['100001000', '100']);
    expect(resource('/soc@100000000/uart@1000', 1)).toEqual(['100002000', '100']);
    // The second window maps 0x20000000 to 0x0_20000000.
    expect(resource('/soc@100000000/dma@20000000')).toEqual(['20000000', '1000']);
  });

  it('an address outside every window does not translate (OF_BAD_ADDR)', () => {
    expect(resource('/soc@100000000/outside@30000000')).toBeUndefined();
  });

  it('a bus without ranges is a non-translatable boundary; an empty ranges is 1:1', () => {
    expect(resource('/opaque@0/dev@10')).toBeUndefined();
    expect(resource('/flat@0/dev@40')).toEqual(['40', '4']);
  });

  it('#size-cells = <0> on the way makes addresses untranslatable (OF_CHECK_COUNTS)', () => {
    const cpu = soc.require('/nosize@0/cpu@1');
    expect(regEntries(cpu)).toHaveLength(1);
    expect(translateAddress(cpu, [1])).toBeUndefined();
  });

  it('fewer cells than #address-cells, or the root itself, do not translate', () => {
    expect(translateAddress(soc.require('/memory@80000000'), [0x80000000])).toBeUndefined();
    expect(translateAddress(soc.root, [0, 0])).toBeUndefined();
  });

  it('of_address_count() stops at the first entry that does not translate', () => {
    const split = addressResources(soc.require('/soc@100000000/split@fff0'));
    expect(split.map((r) => r.address.toString(16))).toEqual(['10000fff0']);
  });

  it('carries reg-names into the resource name', () => {
    expect(addressResources(soc.require('/soc@100000000/uart@1000')).map((r) => r.name)).toEqual([
      'regs',
      'fifo',
    ]);
  });
});

describe('bus translators (drivers/of/address.c: of_busses[])', () => {
  const tree = OfTree.of(
    dtTree({
      props: { '#address-cells': [1], '#size-cells': [1] },
      children: {
        'pcie@40000000': {
          props: {
            device_type: 'pci',
            '#address-cells': [3],
            '#size-cells': [2],
            // one memory window (space code 2) at PCI 0x1000_0000 -> CPU 0x5000_0000
            ranges: [0x02000000, 0, 0x10000000, 0x50000000, 0, 0x10000000],
          },
          children: {
            'mem@0': { props: { reg: [0x02000000, 0, 0x10000100, 0, 0x100] } },
            'io@0': { props: { reg: [0x01000000, 0, 0x10000100, 0, 0x100] } },
          },
        },
        'isa@1000': {
          props: {
            '#address-cells': [2],
            '#size-cells': [1],
            ranges: [1, 0, 0x1000, 0x100, 0, 0, 0x2000, 0x100],
          },
          children: {
            'mem@0,10': { props: { reg: [0, 0x10, 8] } },
            'port@1,10': { props: { reg: [1, 0x10, 8] } },
          },
        },
        'flags-bus@0': {
          props: { '#address-cells': [3], '#size-cells': [1], ranges: [0x200, 0, 0, 0x8000, 0x1000] },
          children: {
            'a@0': { props: { reg: [0x200, 0, 0x20, 4] } },
            'b@0': { props: { reg: [0x100, 0, 0x20, 4] } },
          },
        },
      },
    }),
  );

  it('matches PCI by device_type or a node named pcie, ISA by name, default-flags by 3 address cells', () => {
    expect(matchBus(tree.require('/pcie@40000000'))?.name).toBe('pci');
    expect(matchBus(tree.require('/isa@1000'))?.name).toBe('isa');
    expect(matchBus(tree.require('/flags-bus@0'))?.name).toBe('default-flags');
    expect(matchBus(tree.root)?.name).toBe('default');
    const named = OfTree.of(dtTree({ children: { 'pcie@0': {} } }));
    expect(matchBus(named.require('/pcie@0'))?.name).toBe('pci');
  });

  it('PCI: translates memory-space addresses, never matches I/O space against a memory window', () => {
    const mem = tree.require('/pcie@40000000/mem@0');
    expect(translateAddress(mem, [0x02000000, 0, 0x10000100])).toBe(0x50000100n);
    expect(translateAddress(mem, [0x01000000, 0, 0x10000100])).toBeUndefined();
  });

  it('ISA: memory translates; I/O-space reg is not a memory resource', () => {
    expect(addressToResource(tree.require('/isa@1000/mem@0,10'), 0)?.address).toBe(0x2010n);
    const port = tree.require('/isa@1000/port@1,10');
    expect(translateAddress(port, [1, 0x10])).toBe(0x1010n);
    expect(addressToResource(port, 0)).toBeUndefined();
  });

  it('default-flags: the flags cells must be equal and the first cell is the resource type', () => {
    expect(addressToResource(tree.require('/flags-bus@0/a@0'), 0)?.address).toBe(0x8020n);
    expect(translateAddress(tree.require('/flags-bus@0/b@0'), [0x100, 0, 0x20])).toBeUndefined();
  });

  it('an empty ranges under a flags bus passes the flags cell through (of_translate_one(), v6.7+)', () => {
    // drivers/of/address.c: of_translate_one(): "set address to zero, pass flags through":
    // memset(addr + pbus->flag_cells, 0, ...), so the outer default-flags bus still sees the
    // child's flags (1) and its window for flags 1 matches; zeroing them would miss it.
    const flags = OfTree.of(
      dtTree({
        props: { '#address-cells': [2], '#size-cells': [2] },
        children: {
          'outer@0': {
            props: {
              '#address-cells': [3],
              '#size-cells': [1],
              ranges: [0x2, 0, 0, 0, 0x50000000, 0x1000, 0x1, 0, 0, 0, 0x40000000, 0x10000000],
            },
            children: {
              'inner@0': {
                props: { '#address-cells': [3], '#size-cells': [1], ranges: true },
                children: { 'dev@1000': { props: { reg: [0x1, 0, 0x1000, 0x100] } } },
              },
            },
          },
        },
      }),
    );
    const dev = flags.require('/outer@0/inner@0/dev@1000');
    expect(translateAddress(dev, [0x1, 0, 0x1000])).toBe(0x40001000n);
    expect(translateAddress(dev, [0x2, 0, 0x10])).toBe(0x50000010n);
    expect(translateAddress(dev, [0x3, 0, 0x10])).toBeUndefined();
  });

  it('window end uses wrapping u64 arithmetic (cp + s)', () => {
    const wrap = OfTree.of(
      dtTree({
        props: { '#address-cells': [2], '#size-cells': [2] },
        children: {
          'bus@0': {
            props: {
              '#address-cells': [2],
              '#size-cells': [2],
              // child base 0xffff_ffff_ffff_f000, size 0x2000: cp + s wraps to 0x1000
              ranges: [0xffffffff, 0xfffff000, 0, 0x1000, 0, 0x2000],
            },
            children: { 'x@0': { props: { reg: [0xffffffff, 0xfffff800, 0, 4] } } },
          },
        },
      }),
    );
    expect(translateAddress(wrap.require('/bus@0/x@0'), [0xffffffff, 0xfffff800])).toBeUndefined();
  });
});

describe('translation properties', () => {
  // A chain of simple buses, each with one window; the CPU address is the device address
  // minus every child base plus every parent base, when it stays inside every window.
  const level = fc.record({
    childBase: fc.integer({ min: 0, max: 0xffff }),
    parentBase: fc.integer({ min: 0, max: 0xffff_ffff }),
    size: fc.integer({ min: 1, max: 0x10000 }),
    cells: fc.constantFrom(1, 2),
  });

  it('a chain of ranges windows adds up, or reports untranslatable exactly when a window misses', () => {
    fc.assert(
      fc.property(
        fc.array(level, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 0x1ffff }),
        (levels, addr) => {
          // Build from the root down: the root has 2/2 cells.
          const encode = (value: bigint, cells: number): number[] =>
            cells === 2 ? [Number(value >> 32n), Number(value & 0xffffffffn)] : [Number(value & 0xffffffffn)];
          let parentCells = 2;
          const nodes: { lit: LiteralNode; name: string }[] = [];
          levels.forEach((l, i) => {
            nodes.push({
              name: `bus${i}@0`,
              lit: {
                props: {
                  '#address-cells': [l.cells],
                  '#size-cells': [1],
                  ranges: [
                    ...encode(BigInt(l.childBase), l.cells),
                    ...encode(BigInt(l.parentBase), parentCells),
                    l.size,
                  ],
                },
              },
            });
            parentCells = l.cells;
          });
          let leaf: LiteralNode = { props: { reg: [...encode(BigInt(addr), parentCells), 4] } };
          for (let i = nodes.length - 1; i >= 0; i--) {
            leaf = {
              props: nodes[i]!.lit.props!,
              children: { [i === nodes.length - 1 ? 'dev@0' : `bus${i + 1}@0`]: leaf },
            };
          }
          const view = OfTree.of(
            dtTree({ props: { '#address-cells': [2], '#size-cells': [2] }, children: { 'bus0@0': leaf } }),
          );
          const path = `/${levels.map((_, i) => `bus${i}@0`).join('/')}/dev@0`;
          // Expected, walking up from the device.
          let expected: bigint | undefined = BigInt(addr);
          for (let i = levels.length - 1; i >= 0 && expected !== undefined; i--) {
            const l = levels[i]!;
            const mask = l.cells === 2 ? (1n << 64n) - 1n : 0xffffffffn;
            const da: bigint = expected & mask;
            expected =
              da < BigInt(l.childBase) || da >= BigInt(l.childBase + l.size)
                ? undefined
                : da - BigInt(l.childBase) + BigInt(l.parentBase);
          }
          const got = addressToResource(view.require(path), 0)?.address;
          expect(got).toBe(expected);
        },
      ),
    );
  });
});

describe('ranges lookup equals the kernel linear scan (bus.map over entries in order)', () => {
  it('for random, overlapping, empty and wrapping windows on the default and flags buses', () => {
    const entry = fc.record({
      flags: fc.constantFrom(0x02000000, 0x01000000, 0x03000000, 0),
      child: fc.integer({ min: 0, max: 0x200 }),
      parent: fc.integer({ min: 0, max: 0xffffffff }),
      size: fc.oneof(fc.integer({ min: 0, max: 0x100 }), fc.constant(0xffffffff)),
      high: fc.constantFrom(0, 0xffffffff),
    });
    fc.assert(
      fc.property(
        fc.constantFrom('default', 'pci'),
        fc.array(entry, { minLength: 1, maxLength: 8 }),
        fc.record({
          flags: fc.constantFrom(0x02000000, 0x01000000, 0x03000000),
          at: fc.integer({ min: 0, max: 0x300 }),
        }),
        (kind, entries, probe) => {
          const pci = kind === 'pci';
          // Child addresses: 2 cells (high, low), plus a flags cell on PCI; sizes 2 cells.
          const ranges = entries.flatMap((e) => [
            ...(pci ? [e.flags] : []),
            e.high,
            e.child,
            e.parent,
            e.high,
            e.size,
          ]);
          const view = OfTree.of(
            dtTree({
              props: { '#address-cells': [1], '#size-cells': [1] },
              children: {
                'bus@0': {
                  props: {
                    ...(pci ? { device_type: 'pci' } : {}),
                    '#address-cells': [pci ? 3 : 2],
                    '#size-cells': [2],
                    ranges,
                  },
                  children: { 'dev@0': {} },
                },
              },
            }),
          );
          const dev = view.require('/bus@0/dev@0');
          const bus = matchBus(view.require('/bus@0'))!;
          const addr = [...(pci ? [probe.flags] : []), 0, probe.at];
          const na = pci ? 3 : 2;
          const rone = na + 1 + 2;
          let expected: bigint | undefined;
          for (let at = 0; at + rone <= ranges.length; at += rone) {
            const offset = bus.map(addr, ranges.slice(at, at + rone), na, 2, 1);
            if (offset !== undefined) {
              expected = (BigInt(ranges[at + na]!) + offset) & 0xffffffffn;
              break;
            }
          }
          expect(translateAddress(dev, addr)).toBe(expected);
        },
      ),
    );
  });
});

// drivers/of/address.c: of_bus_default_match() / of_bus_default_flags_match() test
// of_property_present(np, "#address-cells") from v6.13 (commit 6e5773d52f4a, in
// devicetree-fixes-for-6.13-2); v6.12 finds the cells through the ancestors.
describe('of_match_bus by kernel version (#address-cells on the bus node itself from v6.13)', () => {
  const tree = OfTree.of(
    dtTree({
      props: { '#address-cells': [1], '#size-cells': [1] },
      children: {
        firmware: {
          // coreboot's /firmware: an empty ranges and no #address-cells / #size-cells
          props: { ranges: true },
          children: { coreboot: { props: { compatible: 'coreboot', reg: [0x7ff00000, 0x1000] } } },
        },
        'flags@0': {
          props: { '#address-cells': [3], '#size-cells': [1], ranges: true },
          children: {
            'inherit@0': {
              // no #address-cells: v6.12 inherits 3 (default-flags), v6.13+ matches nothing
              props: { ranges: true },
              children: { 'dev@0': { props: { reg: [0x200, 0, 0x40, 4] } } },
            },
          },
        },
      },
    }),
  );
  const coreboot = tree.require('/firmware/coreboot');

  it('v6.12: a bus without #address-cells inherits them and translates', () => {
    expect(matchBus(tree.require('/firmware'), [6, 12])?.name).toBe('default');
    expect(matchBus(tree.require('/flags@0/inherit@0'), [6, 12])?.name).toBe('default-flags');
    expect(regEntries(coreboot, [6, 12]).map((e) => e.address)).toEqual([0x7ff00000n]);
    expect(addressToResource(coreboot, 0, [6, 12])?.address).toBe(0x7ff00000n);
    expect(addressResources(coreboot, [6, 12])).toHaveLength(1);
  });

  it.each([
    [6, 13],
    [6, 14],
    [6, 18],
  ] as const)(
    'v%i.%i: the bus matches no translator, so reg is not found and nothing translates',
    (major, minor) => {
      const kernel = [major, minor] as const;
      expect(matchBus(tree.require('/firmware'), kernel)).toBeUndefined();
      expect(matchBus(tree.require('/flags@0/inherit@0'), kernel)).toBeUndefined();
      expect(matchBus(tree.require('/flags@0'), kernel)?.name).toBe('default-flags');
      expect(regEntries(coreboot, kernel)).toEqual([]);
      expect(addressToResource(coreboot, 0, kernel)).toBeUndefined();
      expect(addressResources(coreboot, kernel)).toEqual([]);
      expect(translateAddress(coreboot, [0x7ff00000], kernel)).toBeUndefined();
      // A device one level further down: its own parent is the cell-less bus.
      expect(
        translateAddress(tree.require('/flags@0/inherit@0/dev@0'), [0x200, 0, 0x40], kernel),
      ).toBeUndefined();
    },
  );

  it('defaults to v6.18 (upstream)', () => {
    expect(matchBus(tree.require('/firmware'))).toBeUndefined();
    expect(addressResources(coreboot)).toEqual([]);
  });

  it('refuses a version outside the modelled v6.12–v6.18 or malformed (EINVAL)', () => {
    for (const kernel of [[6, 11], [6, 19], [6], 'v6.12']) {
      expect(() => matchBus(tree.root, kernel as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => translateAddress(coreboot, [0], kernel as never)).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
    }
  });

  it('property: on trees where every bus has #address-cells, v6.12 and v6.18 translate alike', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            base: fc.nat(0xffff),
            parent: fc.nat(0xfff_ffff),
            size: fc.integer({ min: 1, max: 0x1_0000 }),
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.nat(0x1_ffff),
        fc.boolean(),
        (levels, at, dropCells) => {
          // Nest one bus per level; optionally drop #address-cells from the innermost bus.
          let node: LiteralNode = { props: { reg: [at, 4] } };
          levels.forEach((level, i) => {
            const drop = dropCells && i === 0;
            node = {
              props: {
                ...(drop ? {} : { '#address-cells': [1] }),
                '#size-cells': [1],
                ranges: [level.base, level.parent, level.size],
              },
              children: { [i === 0 ? 'dev@0' : `bus@${i - 1}`]: node },
            };
          });
          const t = OfTree.of(
            dtTree({
              props: { '#address-cells': [1], '#size-cells': [1] },
              children: { [`bus@${levels.length - 1}`]: node },
            }),
          );
          const dev = t.nodes.find((n) => n.name === 'dev')!;
          const old = translateAddress(dev, [at], [6, 12]);
          const now = translateAddress(dev, [at], [6, 18]);
          if (dropCells) return now === undefined;
          return old === now;
        },
      ),
    );
  });
});
