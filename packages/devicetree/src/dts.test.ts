import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDts } from './dts.js';
import { guessValueKind } from './dts-value.js';
import { parseFdt } from './fdt-parse.js';
import { serializeFdt } from './fdt-serialize.js';
import { fixture, fixtures, hasDtc, runDtc } from './test-support/fixtures.js';
import { arbitraryTree, arbitraryValue } from './test-support/trees.js';
import type { DeviceTree } from './tree.js';

function treeWith(values: readonly Uint8Array[]): DeviceTree {
  return {
    header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
    reserveMap: [],
    root: { name: '', properties: values.map((value, i) => ({ name: `p${i}`, value })), children: [] },
  };
}

describe('toDts matches the dtc 1.6.1 oracles', () => {
  it.each(fixtures().map((f) => [f.name, f] as const))('%s', (_, f) => {
    expect(toDts(parseFdt(f.blob))).toBe(f.dts);
  });
});

describe('value printing (treesource.c guess_value_type)', () => {
  const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
  it.each([
    ['a string needs a final NUL', bytes(0x61, 0x62, 0), 'string'],
    ['NULs may equal the other bytes', bytes(0x61, 0), 'string'],
    ['more NULs than text is not a string', bytes(0x61, 0, 0), 'bytes'],
    ['a lone NUL is a byte', bytes(0), 'bytes'],
    ['four zero bytes are a cell', bytes(0, 0, 0, 0), 'cells'],
    ['a high byte is not a string', bytes(0xff, 0), 'bytes'],
    ['DEL is not printable', bytes(0x7f, 0), 'bytes'],
    ['C escapes are string characters', bytes(0x61, 9, 10, 0), 'string'],
    ['no final NUL, length 8: cells', bytes(0x61, 0, 0, 0, 0x62, 0, 0, 0), 'cells'],
  ] as const)('%s', (_, value, kind) => {
    expect(guessValueKind(value)).toBe(kind);
  });

  it('prints escapes, stringlists, cells, bytes and /memreserve/ as dtc does', () => {
    const tree: DeviceTree = {
      ...treeWith([
        bytes(0x61, 9, 10, 0x5c, 0x22, 0),
        bytes(0x61, 0, 0x62, 0),
        bytes(0, 0, 0, 5, 0, 0, 1, 0),
        bytes(1, 2, 3),
        bytes(0x61, 7, 8, 11, 12, 13, 0),
      ]),
      reserveMap: [{ address: 0x8000_0000n, size: 0x1_0000n }],
    };
    expect(
      toDts({
        ...tree,
        root: {
          ...tree.root,
          properties: [...tree.root.properties, { name: 'flag', value: new Uint8Array(0) }],
        },
      }),
    ).toBe(
      [
        '/dts-v1/;',
        '',
        '/memreserve/\t0x0000000080000000 0x0000000000010000;',
        '/ {',
        '\tp0 = "a\\t\\n\\\\\\"";',
        '\tp1 = "a\\0b";',
        '\tp2 = <0x05 0x100>;',
        '\tp3 = [01 02 03];',
        '\tp4 = "a\\a\\b\\v\\f\\r";',
        '\tflag;',
        '};',
        '',
      ].join('\n'),
    );
  });

  it('property: arbitrary values print exactly as dtc -O dts prints them (differential, batched)', () => {
    if (!hasDtc()) return;
    fc.assert(
      fc.property(fc.array(arbitraryValue, { minLength: 1, maxLength: 60 }), (values) => {
        const tree = treeWith(values);
        const run = runDtc(['-I', 'dtb', '-O', 'dts', '-q'], serializeFdt(tree));
        expect(run.status).toBe(0);
        expect(toDts(tree)).toBe(run.stdout.toString('latin1'));
      }),
      { numRuns: 40 },
    );
  });

  it('property: arbitrary trees print exactly as dtc -O dts prints them (differential)', () => {
    if (!hasDtc()) return;
    fc.assert(
      fc.property(arbitraryTree(), (tree) => {
        const run = runDtc(['-I', 'dtb', '-O', 'dts', '-q', '-f'], serializeFdt(tree));
        expect(run.timedOut).toBe(false);
        expect(toDts(tree)).toBe(run.stdout.toString('latin1'));
      }),
      { numRuns: 40 },
    );
  });
});

describe('name properties (checks.c check_name_properties)', () => {
  it('omits a `name` property equal to the base name, as dtc deletes it before printing', () => {
    const str = (t: string): Uint8Array => new TextEncoder().encode(`${t}\0`);
    const tree: DeviceTree = {
      header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
      reserveMap: [],
      root: {
        name: '',
        properties: [],
        children: [
          {
            name: 'serial@1',
            properties: [
              { name: 'name', value: str('serial') },
              { name: 'x', value: str('y') },
            ],
            children: [],
          },
          { name: 'uart', properties: [{ name: 'name', value: str('uart') }], children: [] },
        ],
      },
    };
    const text = toDts(tree);
    expect(text).not.toContain('name =');
    expect(text).toContain('\tserial@1 {\n\t\tx = "y";\n\t};\n');
    if (hasDtc())
      expect(runDtc(['-I', 'dtb', '-O', 'dts', '-q'], serializeFdt(tree)).stdout.toString('latin1')).toBe(
        text,
      );
  });
});

describe('toDts(tree, { labels: true })', () => {
  const juno = (): string => toDts(parseFdt(fixture('juno-r2.dtb').blob), { labels: true });

  it('puts the /__symbols__ labels on their nodes', () => {
    const text = juno();
    expect(text).toMatch(/^\tgic: interrupt-controller@2c010000 \{$/m);
    expect(text).toMatch(/^\tsmmu_pcie: iommu@2b500000 \{$/m);
  });

  it('prints interrupt-parent, iommus, clocks and dmas phandles as &label with their argument cells', () => {
    const text = juno();
    expect(text).toMatch(/^\tinterrupt-parent = <&gic>;$/m);
    expect(text).toMatch(/^\t\tiommus = <&smmu_dma 0x00 &smmu_dma 0x01 /m);
    expect(text).toMatch(/clocks = <&soc_refclk100mhz>;/);
  });

  it('differs from the oracle only where labels and references were restored', () => {
    const f = fixture('juno-r2.dtb');
    const plain = f.dts.split('\n');
    const labelled = juno().split('\n');
    expect(labelled).toHaveLength(plain.length);
    labelled.forEach((line, i) => {
      if (line !== plain[i]) expect(line).toMatch(/: |&/);
    });
  });

  it('round-trips through dtc for every fixture: compiling the labelled text gives back the tree', () => {
    if (!hasDtc()) return;
    for (const f of fixtures()) {
      const tree = parseFdt(f.blob);
      const run = runDtc(
        ['-I', 'dts', '-O', 'dtb', '-q'],
        new TextEncoder().encode(toDts(tree, { labels: true })),
      );
      expect(run.status, `${f.name}: ${run.stderr}`).toBe(0);
      expect(
        Buffer.compare(
          serializeFdt(parseFdt(new Uint8Array(run.stdout)), { padding: 'none' }),
          serializeFdt(tree, { padding: 'none' }),
        ),
        f.name,
      ).toBe(0);
    }
  }, 60_000);

  it('prints a string with an octal-looking \\0 escape as cells, so dtc reads it back unchanged', () => {
    // sm8650-qrd: regulator-min-microvolt = <0x324b00> reads as the string "\02K" to dtc.
    const tree = treeWith([Uint8Array.of(0, 0x32, 0x4b, 0), Uint8Array.of(0x61, 0, 0x62, 0)]);
    expect(toDts(tree)).toContain('\tp0 = "\\02K";\n');
    expect(toDts(tree, { labels: true })).toContain('\tp0 = <0x324b00>;\n');
    expect(toDts(tree, { labels: true })).toContain('\tp1 = "a\\0b";\n');
  });

  it('uses &{/path} for a referenced node without a label, and leaves unknown phandles numeric', () => {
    const cell = (v: number): Uint8Array =>
      Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    const tree: DeviceTree = {
      header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
      reserveMap: [],
      root: {
        name: '',
        properties: [{ name: 'interrupt-parent', value: cell(1) }],
        children: [
          { name: 'intc', properties: [{ name: 'phandle', value: cell(1) }], children: [] },
          { name: 'dev', properties: [{ name: 'clocks', value: cell(7) }], children: [] },
        ],
      },
    };
    const text = toDts(tree, { labels: true });
    expect(text).toContain('\tinterrupt-parent = <&{/intc}>;\n');
    expect(text).toContain('\t\tclocks = <0x07>;\n');
  });
});
