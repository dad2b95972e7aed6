import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeBusId } from './of-bus-id.js';
import { dtTree } from './of-literal.js';
import { OfTree } from './of-tree.js';

const view = OfTree.of(
  dtTree({
    props: { '#address-cells': [1], '#size-cells': [1] },
    children: {
      soc: {
        props: { compatible: 'simple-bus', '#address-cells': [1], '#size-cells': [1], ranges: true },
        children: {
          'i2c@12ce0000': { props: { reg: [0x12ce0000, 0x100] } },
          leds: { children: { led0: {} } },
        },
      },
      'bus@40000000': {
        props: {
          reg: [0x40000000, 0x1000],
          '#address-cells': [1],
          '#size-cells': [1],
          ranges: [0, 0x40000000, 0x1000],
        },
        children: { leds: {}, 'gpio@20': { props: { reg: [0x20, 4] } } },
      },
      'opaque@50000000': {
        props: { '#address-cells': [1], '#size-cells': [1] },
        children: { 'dev@10': { props: { reg: [0x10, 4] } } },
      },
      'syscon@1c010000': {
        props: {
          reg: [0x1c010000, 0x1000],
          '#address-cells': [1],
          '#size-cells': [1],
          ranges: [0, 0x1c010000, 0x1000],
        },
        children: {
          'led@8,0': { props: { reg: [8, 4], mask: [0x01] } },
          'led@8,5': { props: { reg: [8, 4], mask: [0x20] } },
          'led@8,z': { props: { reg: [8, 4], mask: [0] } },
        },
      },
    },
  }),
);
const name = (path: string): string => makeBusId(view.require(path));

describe('device names (drivers/of/device.c: of_device_make_bus_id, Linux v6.x)', () => {
  it('"<translated address>.<node name without unit address>"', () => {
    expect(name('/soc/i2c@12ce0000')).toBe('12ce0000.i2c');
    expect(name('/bus@40000000/gpio@20')).toBe('40000020.gpio');
  });

  it('without a translatable reg, full names are prefixed up to an ancestor that translates', () => {
    expect(name('/soc')).toBe('soc');
    expect(name('/soc/leds')).toBe('soc:leds');
    expect(name('/soc/leds/led0')).toBe('soc:leds:led0');
    expect(name('/bus@40000000/leds')).toBe('40000000.bus:leds');
    // A reg that does not translate (no ranges above) counts as none: the full name is used.
    expect(name('/opaque@50000000/dev@10')).toBe('opaque@50000000:dev@10');
  });

  it('a mask property adds ffs(mask) - 1 (the vexpress syscon LEDs)', () => {
    expect(name('/syscon@1c010000/led@8,0')).toBe('1c010008.0.led');
    expect(name('/syscon@1c010000/led@8,5')).toBe('1c010008.5.led');
    // ffs(0) - 1 = -1, printed with %x.
    expect(name('/syscon@1c010000/led@8,z')).toBe('1c010008.ffffffff.led');
  });

  it('prints the address as %llx: lowercase hex without leading zeros, 64-bit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (address) => {
        const t = OfTree.of(
          dtTree({
            props: { '#address-cells': [2], '#size-cells': [1] },
            children: {
              'n@0': { props: { reg: [Number(address >> 32n), Number(address & 0xffffffffn), 1] } },
            },
          }),
        );
        expect(makeBusId(t.require('/n@0'))).toBe(`${address.toString(16)}.n`);
      }),
    );
  });
});
