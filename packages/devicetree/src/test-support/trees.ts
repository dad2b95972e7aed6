// fast-check generators of device trees for property tests.
import fc from 'fast-check';
import type { DeviceTree, DtNode, DtProperty } from '../tree.js';

// A small pool with tails of one another, so dtc's strings-block sharing is exercised.
const PROP_NAMES = [
  'compatible',
  'reg',
  '#address-cells',
  'address-cells',
  'cells',
  'linux,phandle',
  'phandle',
  'status',
  'interrupts',
  'clock-names',
  'x',
  'a,b',
  'dma-coherent',
];

const printable = fc.integer({ min: 0x20, max: 0x7e });
const escapeChar = fc.constantFrom(7, 8, 9, 10, 11, 12, 13, 0x22, 0x5c);

/** Values dtc prints in each of its three ways, and the edge cases between them. */
export const arbitraryValue: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .array(
      fc.array(fc.oneof({ weight: 8, arbitrary: printable }, { weight: 1, arbitrary: escapeChar }), {
        maxLength: 12,
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((strings) => Uint8Array.from(strings.flatMap((s) => [...s, 0]))),
  fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 6 }).map((cells) => {
    const out = new Uint8Array(cells.length * 4);
    cells.forEach((c, i) => {
      new DataView(out.buffer).setUint32(i * 4, c, false);
    });
    return out;
  }),
  fc.uint8Array({ maxLength: 20 }),
  fc.array(fc.constantFrom(0, 0x61, 0x09, 0xff), { maxLength: 9 }).map((a) => Uint8Array.from(a)),
);

const nodeName = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9,._+-]{0,10}$/),
    fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  )
  .map(([base, unit]) => (unit === undefined ? base : `${base}@${unit.toString(16)}`));

const properties: fc.Arbitrary<DtProperty[]> = fc
  .uniqueArray(fc.oneof(fc.constantFrom(...PROP_NAMES), fc.stringMatching(/^[a-z#][a-z0-9,._+?#-]{0,14}$/)), {
    maxLength: 6,
  })
  .chain((names) => fc.tuple(...names.map((name) => arbitraryValue.map((value) => ({ name, value })))))
  .map((props) => props.filter((p) => p.name !== 'name'));

const node: (depth: number) => fc.Arbitrary<DtNode> = (depth) =>
  fc.record({
    name: nodeName,
    properties,
    children:
      depth <= 0
        ? fc.constant([])
        : fc.uniqueArray(node(depth - 1), { maxLength: 3, selector: (n) => n.name }),
  });

/** A version-17 tree with up to four levels, reserve entries and a boot CPU id. */
export function arbitraryTree(): fc.Arbitrary<DeviceTree> {
  return fc.record({
    header: fc.record({
      version: fc.constant(17),
      lastCompatibleVersion: fc.constant(16),
      bootCpuidPhys: fc.integer({ min: 0, max: 0xffffffff }),
    }),
    reserveMap: fc.array(
      fc.record({
        address: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        size: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
      }),
      { maxLength: 3 },
    ),
    root: fc.record({
      name: fc.constant(''),
      properties,
      children: fc.uniqueArray(node(3), { maxLength: 4, selector: (n) => n.name }),
    }),
  });
}

/** `tree` without the layout fact `header.totalSize`, for comparing trees read from different layouts. */
export function withoutTotalSize(tree: DeviceTree): DeviceTree {
  const { totalSize: _, ...header } = tree.header;
  return { ...tree, header };
}
