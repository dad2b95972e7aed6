import { describe, expect, it } from 'vitest';
import { isFdtError } from './fdt-error.js';
import { addressCells, busAddressCells, busSizeCells, sizeCells } from './of-cells.js';
import { dtTree } from './of-literal.js';
import { OfTree } from './of-tree.js';

const tree = dtTree({
  props: { '#address-cells': [2], '#size-cells': [2], compatible: ['acme,board'] },
  children: {
    aliases: {
      props: {
        serial0: '/soc/serial@1000',
        i2c1: '/soc/i2c@2000:115200',
        bogus: '/nope',
        phandle: [7],
        console: 'serial0',
        loop1: 'loop2',
        loop2: 'loop1',
      },
    },
    soc: {
      props: { '#address-cells': [1], '#size-cells': [1], ranges: true },
      children: {
        'serial@1000': { props: { phandle: [1], compatible: ['ACME,Uart', 'ns16550a'], status: 'ok' } },
        'i2c@2000': { props: { 'linux,phandle': [2], status: 'disabled' }, children: { 'eeprom@50': {} } },
        'gpio@3000': { props: { phandle: [1], status: 'okay' } },
        'spi@4000': { props: { status: new Uint8Array(0) } },
        'pwm@5000': { props: { status: 'okay\0junk' } },
      },
    },
  },
});
const view = OfTree.of(tree);

describe('OfTree paths (drivers/of/base.c: of_find_node_opts_by_path)', () => {
  it('gives every node its full path and the root "/"', () => {
    expect(view.root.path).toBe('/');
    expect(view.nodes.map((n) => n.path)).toEqual([
      '/',
      '/aliases',
      '/soc',
      '/soc/serial@1000',
      '/soc/i2c@2000',
      '/soc/i2c@2000/eeprom@50',
      '/soc/gpio@3000',
      '/soc/spi@4000',
      '/soc/pwm@5000',
    ]);
  });

  it('finds full paths by full name only (unit address included)', () => {
    expect(view.find('/soc/serial@1000')?.path).toBe('/soc/serial@1000');
    expect(view.find('/soc/serial')).toBeUndefined();
    expect(view.find('/soc//serial@1000')).toBeUndefined();
    expect(view.find('/')).toBe(view.root);
  });

  it('resolves aliases, alias + relative path, and drops ":options"', () => {
    expect(view.find('serial0')?.path).toBe('/soc/serial@1000');
    expect(view.find('i2c1/eeprom@50')?.path).toBe('/soc/i2c@2000/eeprom@50');
    expect(view.find('serial0:115200n8')?.path).toBe('/soc/serial@1000');
    expect(view.find('/soc/serial@1000:opts')?.path).toBe('/soc/serial@1000');
    expect(view.find('nosuchalias')).toBeUndefined();
    expect(view.find('bogus')).toBeUndefined();
    // With options the whole part before ':' is the alias name.
    expect(view.find('i2c1/eeprom@50:x')).toBeUndefined();
  });

  it('an alias may name another alias; a loop of aliases finds nothing instead of recursing', () => {
    expect(view.find('console')?.path).toBe('/soc/serial@1000');
    expect(view.find('loop1')).toBeUndefined();
  });

  it('of_alias_scan: aliases that resolve, without the phandle bookkeeping property', () => {
    expect([...view.aliases().entries()].map(([k, v]) => [k, v.path])).toEqual([
      ['serial0', '/soc/serial@1000'],
      ['i2c1', '/soc/i2c@2000'],
      ['console', '/soc/serial@1000'],
    ]);
  });

  it('require() throws typed errors', () => {
    expect(() => view.require('/missing')).toThrow(expect.objectContaining({ code: 'NOTFOUND' }));
    let caught: unknown;
    try {
      view.require('');
    } catch (error) {
      caught = error;
    }
    expect(isFdtError(caught, 'BADPATH')).toBe(true);
  });

  it('caches one view per tree object', () => {
    expect(OfTree.of(tree)).toBe(view);
    expect(OfTree.of(tree.root)).not.toBe(view);
  });
});

describe('phandles (drivers/of/fdt.c: populate_properties, base.c: of_find_node_by_phandle)', () => {
  it('accepts "phandle" and legacy "linux,phandle"; the first node wins a duplicate; 0 is never found', () => {
    expect(view.nodeByPhandle(1)?.path).toBe('/soc/serial@1000');
    expect(view.nodeByPhandle(2)?.path).toBe('/soc/i2c@2000');
    expect(view.nodeByPhandle(0)).toBeUndefined();
    expect(view.nodeByPhandle(99)).toBeUndefined();
  });
});

describe('status (drivers/of/base.c: __of_device_is_available)', () => {
  it('absent, "okay" and "ok" are available; "disabled" and an empty value are not', () => {
    const available = Object.fromEntries(view.nodes.map((n) => [n.path, n.available]));
    expect(available['/soc']).toBe(true);
    expect(available['/soc/serial@1000']).toBe(true);
    expect(available['/soc/gpio@3000']).toBe(true);
    expect(available['/soc/i2c@2000']).toBe(false);
    expect(available['/soc/spi@4000']).toBe(false);
    // strcmp() stops at the first NUL.
    expect(available['/soc/pwm@5000']).toBe(true);
  });
});

describe('compatible (drivers/of/base.c: __of_device_is_compatible, of_compat_cmp = strcasecmp)', () => {
  it('matches any entry, ignoring ASCII case', () => {
    const serial = view.require('/soc/serial@1000');
    expect(serial.compatible).toEqual(['ACME,Uart', 'ns16550a']);
    expect(serial.isCompatible('acme,uart')).toBe(true);
    expect(serial.isCompatible('NS16550A')).toBe(true);
    expect(serial.isCompatible('ns16550')).toBe(false);
  });

  it('name helpers split the unit address', () => {
    const serial = view.require('/soc/serial@1000');
    expect([serial.name, serial.fullName, serial.unitAddress]).toEqual(['serial', 'serial@1000', '1000']);
    expect(view.root.unitAddress).toBeUndefined();
  });
});

describe('#address-cells / #size-cells (drivers/of/base.c: of_bus_n_addr_cells, of_private.h defaults)', () => {
  it('defaults to 1/1 (OF_ROOT_NODE_*_CELLS_DEFAULT), not the specification 2/1', () => {
    const bare = OfTree.of(dtTree({ children: { a: { children: { b: {} } } } }));
    const b = bare.require('/a/b');
    expect([addressCells(b), sizeCells(b)]).toEqual([1, 1]);
    expect([busAddressCells(bare.root), busSizeCells(bare.root)]).toEqual([1, 1]);
  });

  it('walks up to the nearest ancestor that has the property', () => {
    const eeprom = view.require('/soc/i2c@2000/eeprom@50');
    // i2c@2000 has none: soc's 1/1 apply (the deprecated parent walk).
    expect([addressCells(eeprom), sizeCells(eeprom)]).toEqual([1, 1]);
    const soc = view.require('/soc');
    expect([addressCells(soc), sizeCells(soc)]).toEqual([2, 2]);
  });
});
