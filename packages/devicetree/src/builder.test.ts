import { describe, expect, it } from 'vitest';
import { DeviceTreeBuilder, ref } from './builder.js';
import { toDts } from './dts.js';
import { isFdtError } from './fdt-error.js';
import { parseFdt } from './fdt-parse.js';
import { serializeFdt } from './fdt-serialize.js';
import { hasDtc, runDtc } from './test-support/fixtures.js';
import { withoutTotalSize } from './test-support/trees.js';
import type { DeviceTree, DtNode } from './tree.js';

/** A small SoC: GIC, an SMMU, a PL330 behind it and a UART, with labels and references. */
function demoSoc(symbols = false): DeviceTree {
  return new DeviceTreeBuilder()
    .reserve(0x8000_0000n, 0x1_0000n)
    .root((r) =>
      r
        .string('model', 'vfiokit demo SoC')
        .string('compatible', 'vfiokit,demo', 'arm,vexpress')
        .cells('#address-cells', 2)
        .cells('#size-cells', 2)
        .cells('interrupt-parent', ref('gic'))
        .node('intc@2c010000', (n) =>
          n
            .label('gic')
            .string('compatible', 'arm,gic-400')
            .cells('#interrupt-cells', 3)
            .flag('interrupt-controller')
            .cells('reg', 0, 0x2c010000, 0, 0x1000, 0, 0x2c02f000, 0, 0x2000),
        )
        .node('soc', (soc) =>
          soc
            .string('compatible', 'simple-bus')
            .cells('#address-cells', 2)
            .cells('#size-cells', 2)
            .flag('ranges')
            .node('iommu@7fb00000', (n) =>
              n
                .label('smmu')
                .string('compatible', 'arm,mmu-401')
                .cells('#iommu-cells', 1)
                .cells('reg', 0, 0x7fb00000, 0, 0x10000),
            )
            .node('dma-controller@7ff00000', (n) =>
              n
                .string('compatible', 'arm,pl330', 'arm,primecell')
                .cells('reg', 0, 0x7ff00000, 0, 0x1000)
                .cells('interrupts', 0, 95, 4, 0, 88, 4)
                .cells('iommus', ref('smmu'), 0, ref('smmu'), 1)
                .cells('#dma-cells', 1)
                .flag('dma-coherent')
                .u64('vfiokit,u64', 0x1_0000_0000n)
                .bytes('vfiokit,bytes', [1, 2, 3]),
            )
            .node('serial@7ff80000', (n) =>
              n
                .label('uart0')
                .string('compatible', 'arm,pl011', 'arm,primecell')
                .cells('reg', 0, 0x7ff80000, 0, 0x1000)
                .string('status', 'okay'),
            ),
        )
        .node('chosen', (n) => n.string('stdout-path', 'serial0:115200n8')),
    )
    .build(symbols ? { symbols: true } : {});
}

function find(node: DtNode, path: string): DtNode | undefined {
  return path
    .split('/')
    .filter(Boolean)
    .reduce<DtNode | undefined>((n, part) => n?.children.find((c) => c.name === part), node);
}

describe('DeviceTreeBuilder', () => {
  it("gives phandles in reference order, appended as the target's last property (as dtc does)", () => {
    const tree = demoSoc();
    const phandle = (path: string): number | undefined => {
      const p = find(tree.root, path)?.properties.at(-1);
      return p?.name === 'phandle'
        ? new DataView(p.value.buffer, p.value.byteOffset).getUint32(0)
        : undefined;
    };
    expect(phandle('/intc@2c010000')).toBe(1);
    expect(phandle('/soc/iommu@7fb00000')).toBe(2);
    // A label nobody references gets no phandle, unless /__symbols__ is asked for (dtc -@).
    expect(find(tree.root, '/soc/serial@7ff80000')?.properties.some((p) => p.name === 'phandle')).toBe(false);
    expect(find(demoSoc(true).root, '/soc/serial@7ff80000')?.properties.at(-1)?.value).toEqual(
      Uint8Array.of(0, 0, 0, 3),
    );
  });

  it('keeps a phandle set by hand and gives the next free one to referenced nodes', () => {
    const tree = new DeviceTreeBuilder()
      .root((r) =>
        r
          .cells('a-ref', ref('a'), ref('b'))
          .node('a', (n) => n.label('a').cells('phandle', 1))
          .node('b', (n) => n.label('b')),
      )
      .build();
    expect(tree.root.properties[0]?.value).toEqual(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 2));
    expect(tree.root.children[1]?.properties).toEqual([
      { name: 'phandle', value: Uint8Array.of(0, 0, 0, 2) },
    ]);
  });

  it('round-trips through serializeFdt and parseFdt', () => {
    const tree = demoSoc(true);
    expect(withoutTotalSize(parseFdt(serializeFdt(tree)))).toEqual(tree);
  });

  it('produces blobs dtc decompiles without errors, to the text toDts prints', () => {
    if (!hasDtc()) return;
    for (const tree of [demoSoc(), demoSoc(true)]) {
      const run = runDtc(['-I', 'dtb', '-O', 'dts'], serializeFdt(tree));
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/ERROR/);
      expect(run.stdout.toString('latin1')).toBe(toDts(tree));
    }
  });

  it('writes what dtc writes when compiling the labelled DTS of the same tree', () => {
    if (!hasDtc()) return;
    const tree = demoSoc(true);
    const run = runDtc(
      ['-I', 'dts', '-O', 'dtb', '-@', '-q'],
      new TextEncoder().encode(toDts(tree, { labels: true }).replace(/\n\t__symbols__ \{[^}]*\};\n/, '\n')),
    );
    expect(run.status, run.stderr).toBe(0);
    expect(Buffer.from(serializeFdt(tree)).equals(run.stdout)).toBe(true);
  });

  it('adds /__symbols__ like dtc -@', () => {
    const symbols = demoSoc(true).root.children.at(-1);
    expect(symbols?.name).toBe('__symbols__');
    expect(symbols?.properties.map((p) => [p.name, new TextDecoder().decode(p.value)])).toEqual([
      ['gic', '/intc@2c010000\0'],
      ['smmu', '/soc/iommu@7fb00000\0'],
      ['uart0', '/soc/serial@7ff80000\0'],
    ]);
  });

  it.each<[string, () => unknown, string]>([
    [
      'an undefined label',
      () => new DeviceTreeBuilder().root((r) => r.cells('interrupt-parent', ref('nope'))).build(),
      'BADPHANDLE',
    ],
    ['a duplicate property', () => new DeviceTreeBuilder().root((r) => r.flag('a').flag('a')), 'EXISTS'],
    ['a duplicate node', () => new DeviceTreeBuilder().root((r) => r.node('a').node('a')), 'EXISTS'],
    [
      'a duplicate label',
      () =>
        new DeviceTreeBuilder()
          .root((r) => r.node('a', (n) => n.label('x')).node('b', (n) => n.label('x')))
          .build(),
      'EXISTS',
    ],
    ['a cell above 2^32', () => new DeviceTreeBuilder().root((r) => r.cells('reg', 2 ** 32)), 'BADVALUE'],
    ['a negative u64', () => new DeviceTreeBuilder().root((r) => r.u64('x', -1n)), 'BADVALUE'],
    ['a byte above 255', () => new DeviceTreeBuilder().root((r) => r.bytes('x', [256])), 'BADVALUE'],
    ['a node name with a slash', () => new DeviceTreeBuilder().root((r) => r.node('a/b')), 'BADVALUE'],
    ['a zero-size memreserve', () => new DeviceTreeBuilder().reserve(0n, 0n), 'BADVALUE'],
    [
      'a label that is not a DTS label',
      () => new DeviceTreeBuilder().root((r) => r.node('a', (n) => n.label('1x'))),
      'BADVALUE',
    ],
  ])('refuses %s with a typed error', (_, act, code) => {
    let thrown: unknown;
    try {
      act();
    } catch (e) {
      thrown = e;
    }
    expect(isFdtError(thrown) && thrown.code === code, String(thrown)).toBe(true);
  });
});
