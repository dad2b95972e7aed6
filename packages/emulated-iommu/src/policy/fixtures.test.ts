import { readdirSync } from 'node:fs';
import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { FIXTURES, factsByPath, fixture, nodeFacts } from '../../test-support/dt-facts.js';
import { assessDmaCapability } from './assess.js';
import type { DmaPolicyOptions } from './options.js';
import { MAX_REASON_LENGTH } from './verdict.js';

/** `path → "verdict rule[:entry]"` for the devices of a tree. */
function verdicts(tree: Parameters<typeof factsByPath>[0], options?: DmaPolicyOptions): Map<string, string> {
  const result = new Map<string, string>();
  for (const [path, facts] of factsByPath(tree)) {
    const v = assessDmaCapability(facts, options);
    result.set(path, `${v.verdict} ${v.rule}${v.entry === undefined ? '' : `:${v.entry}`}`);
  }
  return result;
}

describe('verdicts on the shared real fixtures', () => {
  it('QEMU virt (GICv2): the PL011/PL031/PL061 are non-master, virtio/fw-cfg/PCIe masters by dma-coherent', () => {
    const v = verdicts(fixture('dtb/qemu-virt-gicv2.dtb'));
    expect(v.get('/pl011@9000000')).toBe('non-master non-master-class:arm,pl011');
    expect(v.get('/pl031@9010000')).toBe('non-master non-master-class:arm,pl031');
    expect(v.get('/pl061@9030000')).toBe('non-master non-master-class:arm,pl061');
    expect(v.get('/fw-cfg@9020000')).toBe('master dma-coherent');
    expect(v.get('/virtio_mmio@a000000')).toBe('master dma-coherent');
    expect(v.get('/pcie@10000000')).toBe('master dma-coherent');
    expect(v.get('/flash@0')).toBe('unknown no-rule');
    // The platform bus has no dma-coherent of its own (its children do): not evidence.
    expect(v.get('/platform-bus@c000000')).toBe('unknown no-rule');
  });

  it('QEMU virt (GICv3 + ITS + SMMUv3): the PCIe host masters through iommu-map, the SMMU walks tables', () => {
    const v = verdicts(fixture('dtb/qemu-virt-gicv3-its-smmuv3.dtb'));
    expect(v.get('/pcie@10000000')).toBe('master iommu-map');
    expect(v.get('/smmuv3@9050000')).toBe('master dma-coherent');
    expect(v.get('/pl011@9000000')).toBe('non-master non-master-class:arm,pl011');
  });

  it('Juno r2: PL330, HDLCDs, USB behind SMMUs are masters by iommus; the simple peripherals are non-master', () => {
    const v = verdicts(fixture('dtb/juno-r2.dtb'));
    const iofpga = '/bus@8000000/motherboard-bus@8000000/iofpga-bus@300000000';
    expect(v.get('/dma-controller@7ff00000')).toBe('master iommus');
    expect(v.get('/hdlcd@7ff50000')).toBe('master iommus');
    expect(v.get('/usb@7ffb0000')).toBe('master iommus');
    expect(v.get('/usb@7ffc0000')).toBe('master iommus');
    expect(v.get('/etr@20070000')).toBe('master iommus');
    expect(v.get('/gpu@2d000000')).toBe('master dma-coherent');
    expect(v.get('/pcie@40000000')).toBe('master iommu-map');
    expect(v.get('/iommu@7fb10000')).toBe('master master-class:arm,smmu');
    expect(v.get('/serial@7ff80000')).toBe('non-master non-master-class:arm,pl011');
    expect(v.get('/i2c@7ffa0000')).toBe('non-master non-master-class:snps,designware-i2c');
    expect(v.get(`${iofpga}/mmc@50000`)).toBe('non-master non-master-class:arm,pl180');
    expect(v.get(`${iofpga}/watchdog@f0000`)).toBe('non-master non-master-class:arm,sp805');
    expect(v.get(`${iofpga}/rtc@170000`)).toBe('non-master non-master-class:arm,pl031');
    expect(v.get(`${iofpga}/gpio@1d0000`)).toBe('non-master non-master-class:arm,pl061');
    expect(v.get('/bus@8000000/motherboard-bus@8000000/ethernet@200000000')).toBe(
      'non-master non-master-class:smsc,lan9115',
    );
    expect(v.get('/mhu@2b1f0000')).toBe('unknown no-rule');
  });

  it('Calxeda Midway: AHCI and XGMACs by dma-coherent, the PL330 by class, the (disabled) SDHCI by class', () => {
    const tree = fixture('dtb/calxeda-midway.dtb');
    const v = verdicts(tree);
    expect(v.get('/soc/sata@ffe08000')).toBe('master dma-coherent');
    expect(v.get('/soc/ethernet@fff50000')).toBe('master dma-coherent');
    expect(v.get('/soc/dma@fff3d000')).toBe('master master-class:arm,pl330');
    // Disabled, so not populated; its verdict is still that of the hardware.
    const sdhci = nodeFacts(tree, '/soc/sdhci@ffe0e000');
    expect(sdhci.status).toBe('disabled');
    expect(assessDmaCapability(sdhci)).toMatchObject({
      verdict: 'master',
      rule: 'master-class',
      entry: 'sdhci',
    });
    expect(v.get('/soc/serial@fff36000')).toBe('non-master non-master-class:arm,pl011');
    expect(v.get('/soc/ipc@fff20000')).toBe('unknown no-rule');
  });

  it('Foundation v8: the SMSC LAN91C111 and the SBSA watchdog are non-master, virtio a master', () => {
    const v = verdicts(fixture('dtb/foundation-v8-gicv3.dtb'));
    expect(v.get('/bus@8000000/ethernet@202000000')).toBe('non-master non-master-class:smsc,lan91c111');
    expect(v.get('/watchdog@2a440000')).toBe('non-master non-master-class:arm,sbsa-gwdt');
    expect(v.get('/bus@8000000/iofpga-bus@300000000/virtio@130000')).toBe('master master-class:virtio,mmio');
  });

  it('a user override by path turns the Juno MHU non-master; one on the PL330 is overruled by its iommus', () => {
    const v = verdicts(fixture('dtb/juno-r2.dtb'), {
      overrides: [
        { path: '/mhu@2b1f0000', verdict: 'non-master', reason: 'mailbox registers only' },
        { path: '/dma-controller@7ff00000', verdict: 'non-master' },
      ],
    });
    expect(v.get('/mhu@2b1f0000')).toBe('non-master override:path:/mhu@2b1f0000');
    expect(v.get('/dma-controller@7ff00000')).toBe('master iommus');
  });
});

describe('a built tree: the Arndale i2c, a PL011 with dmas, vfiokit,no-dma', () => {
  const tree = new DeviceTreeBuilder()
    .root((r) =>
      r
        .cells('#address-cells', 1)
        .cells('#size-cells', 1)
        .node('soc', (soc) =>
          soc
            .string('compatible', 'simple-bus')
            .cells('#address-cells', 1)
            .cells('#size-cells', 1)
            .flag('ranges')
            .node('dma-controller@12680000', (n) =>
              n
                .label('pdma0')
                .string('compatible', 'arm,pl330', 'arm,primecell')
                .cells('reg', 0x12680000, 0x1000)
                .cells('#dma-cells', 1),
            )
            .node('i2c@12ce0000', (n) =>
              n.string('compatible', 'samsung,s3c2440-i2c').cells('reg', 0x12ce0000, 0x100),
            )
            .node('serial@12c00000', (n) =>
              n
                .string('compatible', 'arm,pl011', 'arm,primecell')
                .cells('reg', 0x12c00000, 0x1000)
                .cells('dmas', ref('pdma0'), 13, ref('pdma0'), 12)
                .string('dma-names', 'rx', 'tx'),
            )
            .node('sensor@12d00000', (n) =>
              n
                .string('compatible', 'vendor,sensor')
                .cells('reg', 0x12d00000, 0x100)
                .string('vfiokit,no-dma', 'temperature sensor, APB registers only'),
            )
            .node('gadget@12e00000', (n) =>
              n.string('compatible', 'vendor,gadget').cells('reg', 0x12e00000, 0x100).flag('vfiokit,no-dma'),
            )
            .node('mac@12f00000', (n) =>
              n
                .string('compatible', 'vendor,mac')
                .cells('reg', 0x12f00000, 0x1000)
                .flag('dma-coherent')
                .flag('vfiokit,no-dma'),
            ),
        ),
    )
    .build();
  const facts = factsByPath(tree);
  const judge = (path: string) => assessDmaCapability(facts.get(path) ?? { compatible: [] });

  it('the samsung,s3c2440-i2c at 12ce0000 is non-master', () => {
    expect(judge('/soc/i2c@12ce0000')).toMatchObject({ verdict: 'non-master', entry: 'samsung,s3c2440-i2c' });
  });

  it('the PL011 with dmas is non-master and depends on the PL330 it does not own', () => {
    const v = judge('/soc/serial@12c00000');
    expect(v.verdict).toBe('non-master');
    expect(v.dependsOnDmaEngine).toEqual(['/soc/dma-controller@12680000']);
    expect(v.reason).toContain('its DMA engine stays with the host');
    expect(judge('/soc/dma-controller@12680000')).toMatchObject({
      verdict: 'master',
      rule: 'dma-controller',
    });
  });

  it('vfiokit,no-dma with a text and empty', () => {
    expect(judge('/soc/sensor@12d00000').reason).toBe(
      'vfiokit,no-dma in the device tree: temperature sensor, APB registers only',
    );
    expect(judge('/soc/gadget@12e00000')).toMatchObject({ verdict: 'non-master', rule: 'dt-property' });
  });

  it('vfiokit,no-dma beside dma-coherent: the hard evidence wins', () => {
    expect(judge('/soc/mac@12f00000')).toMatchObject({
      verdict: 'master',
      rule: 'dma-coherent',
      overruled: [expect.objectContaining({ rule: 'dt-property' })],
    });
  });
});

describe('every device of every fixture and corpus board', () => {
  const blobs = [
    ...readdirSync(`${FIXTURES}/dtb`).map((name) => `dtb/${name}`),
    ...readdirSync(`${FIXTURES}/corpus`).map((name) => `corpus/${name}`),
  ].filter((name) => name.endsWith('.dtb'));

  it.each(blobs)(
    '%s: a verdict, a reason of ≤ 100 chars on one line, no non-master with hard evidence',
    (name) => {
      for (const [path, facts] of factsByPath(fixture(name))) {
        const v = assessDmaCapability(facts);
        expect(v.reason.length, path).toBeLessThanOrEqual(MAX_REASON_LENGTH);
        expect(v.reason, path).not.toMatch(/\n/);
        expect(v.cannotDma).toBe(v.verdict === 'non-master');
        const hard =
          (facts.iommus ?? []).length > 0 ||
          facts.dmaCoherent === true ||
          facts.iommuMap === true ||
          facts.msiParent === true;
        if (hard) expect(v.verdict, path).toBe('master');
      }
    },
  );
});
