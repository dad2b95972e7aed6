// The README example of the blob-format section, run as written (through the package name).
import { readFileSync } from 'node:fs';
import { DeviceTreeBuilder, parseFdt, ref, serializeFdt, toDts } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, hasDtc, runDtc } from './test-support/fixtures.js';

const JUNO = `${FIXTURES_DIR}dtb/juno-r2.dtb`;

describe('README: blob format', () => {
  it('runs the example', () => {
    const blob = readFileSync(JUNO);
    const tree = parseFdt(blob);
    expect(Buffer.from(serializeFdt(tree)).equals(blob)).toBe(true);
    expect(toDts(tree)).toBe(readFileSync(JUNO.replace(/\.dtb$/, '.dts'), 'latin1'));
    const labelled = toDts(tree, { labels: true });
    expect(labelled).toContain('\tgic: interrupt-controller@2c010000 {\n');
    expect(labelled).toContain('\tinterrupt-parent = <&gic>;\n');
    expect(labelled).toContain('iommus = <&smmu_dma 0x00 ');

    const soc = new DeviceTreeBuilder()
      .reserve(0x8000_0000n, 0x1_0000n)
      .root((r) =>
        r
          .string('compatible', 'vfiokit,demo')
          .cells('#address-cells', 2)
          .cells('#size-cells', 2)
          .cells('interrupt-parent', ref('gic'))
          .node('interrupt-controller@2c010000', (n) =>
            n
              .label('gic')
              .string('compatible', 'arm,gic-400')
              .cells('#interrupt-cells', 3)
              .flag('interrupt-controller'),
          )
          .node('serial@7ff80000', (n) =>
            n
              .string('compatible', 'arm,pl011', 'arm,primecell')
              .cells('reg', 0, 0x7ff80000, 0, 0x1000)
              .cells('interrupts', 0, 83, 4),
          ),
      )
      .build({ symbols: true });
    const demoBlob = serializeFdt(soc);
    expect(parseFdt(demoBlob).root).toEqual(soc.root);
    if (hasDtc()) {
      const run = runDtc(['-I', 'dtb', '-O', 'dts'], demoBlob);
      expect(run.status, run.stderr).toBe(0);
    }
  });

  it('shows the error text of the README', () => {
    const blob = new Uint8Array(readFileSync(JUNO));
    const structOff = new DataView(blob.buffer, blob.byteOffset).getUint32(8);
    // The root's first property (after BEGIN_NODE and its empty name) gets a huge length.
    new DataView(blob.buffer, blob.byteOffset).setUint32(structOff + 12, 0xfffffff0);
    expect(() => parseFdt(blob)).toThrow(
      `FDT_ERR_BADSTRUCTURE at byte ${structOff + 12}: property length 4294967280 runs past the end of the structure block`,
    );
  });
});
