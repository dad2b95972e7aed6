import { readFileSync } from 'node:fs';
import { DeviceTreeBuilder, type DtNodeBuilder, ref } from '@vfiokit/devicetree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../host.js';
import type { HostOptions } from '../options.js';
import { errnoOf } from '../test-support.js';
import { msiFrameViabilityOf, msiVerdictOf } from './msi-verdict.js';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(`/work/shared/fixtures/dtb/${name}.dtb`));

// kernel/irq/msi.c msi_device_has_isolated_msi (v6.3+): per device, through its own MSI
// domain; irq_domain_check_msi_remap before v6.3: system-wide.
describe('msiVerdictOf on the shared fixtures', () => {
  it('Juno r2 (GICv2m): the PCIe root complex sits behind v2m@0 and is not isolated; nothing else has an MSI parent', () => {
    const host = createHost(fixture('juno-r2'));
    const withParent = host.dtDevices.filter((d) => msiVerdictOf(host, d).parent !== undefined);
    expect(withParent.map((d) => d.name)).toEqual(['40000000.pcie']);
    expect(msiVerdictOf(host, '40000000.pcie')).toEqual({
      parent: '/interrupt-controller@2c010000/v2m@0',
      isolated: false,
      reason: expect.stringContaining('GICv2m frame'),
    });
    for (const device of host.dtDevices) expect(msiVerdictOf(host, device).isolated).toBe(false);
    // No ITS anywhere: vfio's system-wide question is false too.
    expect(host.msi.answers.systemHasIsolatedMsi()).toBe(false);
    expect(host.msi.controllers.map((c) => c.kind)).toEqual(['gic-v2m', 'gic-v2m', 'gic-v2m', 'gic-v2m']);
  });

  it('QEMU virt GICv3 ITS: platform devices have no msi-parent (not isolated from v6.3), yet isolated before v6.3', () => {
    const host = createHost(fixture('qemu-virt-gicv3-its-smmuv3'));
    expect(host.msi.answers.systemHasIsolatedMsi()).toBe(true);
    const pl031 = msiVerdictOf(host, '9010000.pl031');
    expect(pl031).toEqual({
      parent: undefined,
      isolated: false,
      reason: expect.stringContaining('no msi-parent'),
    });
    for (const device of host.dtDevices) expect(msiVerdictOf(host, device).isolated).toBe(false);
    const old = createHost(fixture('qemu-virt-gicv3-its-smmuv3'), { profile: { version: [6, 2] } });
    expect(msiVerdictOf(old, '9010000.pl031')).toMatchObject({
      isolated: true,
      reason: expect.stringContaining('system-wide'),
    });
  });

  it('ENODEV for a device the host does not have', () => {
    expect(errnoOf(() => msiVerdictOf(createHost(fixture('juno-r2')), 'nope.dev'))).toBe('ENODEV');
  });
});

// A board: GICv3 with one ITS and one GICv2m frame (with the DT SPI override), and devices
// behind each.
function board(devices: (soc: DtNodeBuilder) => void, preIts = false, options: HostOptions = {}): Host {
  const tree = new DeviceTreeBuilder()
    .root((root) => {
      root
        .string('compatible', 'test,board')
        .cells('#address-cells', 1)
        .cells('#size-cells', 1)
        .cells('interrupt-parent', ref('gic'));
      root.node('interrupt-controller@2f000000', (gic) => {
        gic
          .label('gic')
          .string('compatible', 'arm,gic-v3')
          .cells('#interrupt-cells', 3)
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges')
          .flag('interrupt-controller')
          .cells('reg', 0x2f000000, 0x10000, 0x2f100000, 0x200000);
        gic.node('msi-controller@2f020000', (its) => {
          its
            .label('its')
            .string('compatible', ...(preIts ? ['socionext,synquacer-pre-its'] : []), 'arm,gic-v3-its')
            .flag('msi-controller')
            .cells('#msi-cells', 1)
            .cells('reg', 0x2f020000, 0x20000);
        });
        gic.node('v2m@2f300000', (v2m) => {
          v2m
            .label('v2m')
            .string('compatible', 'arm,gic-v2m-frame')
            .flag('msi-controller')
            .cells('arm,msi-base-spi', 160)
            .cells('arm,msi-num-spis', 32)
            .cells('reg', 0x2f300000, 0x1000);
        });
      });
      root.node('soc', (soc) => {
        soc
          .string('compatible', 'simple-bus')
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges');
        devices(soc);
      });
    })
    .build();
  return createHost(tree, options);
}

function device(
  soc: DtNodeBuilder,
  name: string,
  reg: number,
  msiParent?: readonly (number | ReturnType<typeof ref>)[],
) {
  soc.node(`${name}@${reg.toString(16)}`, (n) => {
    n.string('compatible', `test,${name}`).cells('reg', reg, 0x1000);
    if (msiParent !== undefined) n.cells('msi-parent', ...msiParent);
  });
}

describe('msiVerdictOf on trees not in the repository', () => {
  it('behind the ITS (with a DeviceID) isolated; behind the v2m frame not; without msi-parent not', () => {
    const host = board((soc) => {
      device(soc, 'nic', 0x1000_0000, [ref('its'), 0x10]);
      device(soc, 'dma', 0x1001_0000, [ref('v2m')]);
      device(soc, 'uart', 0x1002_0000);
    });
    expect(msiVerdictOf(host, '10000000.nic')).toEqual({
      parent: '/interrupt-controller@2f000000/msi-controller@2f020000',
      isolated: true,
      reason: expect.stringContaining('DeviceID'),
    });
    expect(msiVerdictOf(host, '10010000.dma')).toMatchObject({
      isolated: false,
      parent: '/interrupt-controller@2f000000/v2m@2f300000',
    });
    expect(msiVerdictOf(host, '10020000.uart')).toMatchObject({ isolated: false, parent: undefined });
    // vfio asks the same models (Host passes host.msi.answers as Vfio's msiIsolation).
    expect(host.msi.answers.deviceHasIsolatedMsi('10000000.nic')).toBe(true);
    expect(host.msi.answers.deviceHasIsolatedMsi('10010000.dma')).toBe(false);
  });

  it('a SynQuacer pre-ITS never isolates', () => {
    const host = board((soc) => device(soc, 'nic', 0x1000_0000, [ref('its'), 0x10]), true);
    expect(msiVerdictOf(host, '10000000.nic')).toMatchObject({
      isolated: false,
      reason: expect.stringContaining('pre-ITS'),
    });
    expect(host.msi.answers.systemHasIsolatedMsi()).toBe(false);
  });

  it('the verdict is isolated exactly when the parent is a real ITS, for any assignment of parents (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('its', 'v2m', 'none'), { minLength: 1, maxLength: 6 }),
        (parents) => {
          const host = board((soc) => {
            for (const [i, p] of parents.entries())
              device(
                soc,
                `d${i}`,
                0x1000_0000 + i * 0x1_0000,
                p === 'none' ? undefined : p === 'its' ? [ref('its'), i] : [ref('v2m')],
              );
          });
          parents.forEach((p, i) => {
            const name = `${(0x1000_0000 + i * 0x1_0000).toString(16)}.d${i}`;
            expect(msiVerdictOf(host, name).isolated).toBe(p === 'its');
            // before v6.3 the question is system-wide: the ITS makes everybody "isolated"
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('seed 004 (NOT IN LINUX, opt-in): two devices sharing a GICv2m frame', () => {
  // reset_required=0 and no-IOMMU mode let vfio-platform take these IOMMU-less devices without a reset module.
  const shared = () =>
    board(
      (soc) => {
        device(soc, 'dma', 0x1001_0000, [ref('v2m')]);
        device(soc, 'eth', 0x1002_0000, [ref('v2m')]);
        device(soc, 'nic', 0x1000_0000, [ref('its'), 0x10]);
      },
      false,
      { reset_required: false, enable_unsafe_noiommu_mode: true },
    );
  const toVfio = async (host: Host, name: string) => {
    await host.fs.run(`echo vfio-platform > /sys/bus/platform/devices/${name}/driver_override`);
    await host.fs.run(`echo ${name} > /sys/bus/platform/drivers_probe`);
    expect(host.core.findDevice(name)?.driverName).toBe('vfio-platform');
  };

  it("viable while the frame's other device is unbound", () => {
    expect(msiFrameViabilityOf(shared(), '10010000.dma', 'vm0')).toEqual({ viable: true, offenders: [] });
  });

  it('refused when the other device is VFIO-bound in another container; viable in the same one', async () => {
    const host = shared();
    await toVfio(host, '10020000.eth');
    const verdict = msiFrameViabilityOf(host, '10010000.dma', 'vm0', { '10020000.eth': 'vm1' });
    expect(verdict.viable).toBe(false);
    expect(verdict.offenders.map((o) => o.device)).toEqual(['10020000.eth']);
    expect(msiFrameViabilityOf(host, '10010000.dma', 'vm0', { '10020000.eth': 'vm0' }).viable).toBe(true);
    // not yet in any container: nobody can use its MSIs, so it passes (the seed rejects only
    // "a different container")
    expect(msiFrameViabilityOf(host, '10010000.dma', 'vm0').viable).toBe(true);
  });

  it('a device behind the ITS is always viable', async () => {
    const host = shared();
    await toVfio(host, '10010000.dma');
    expect(msiFrameViabilityOf(host, '10000000.nic', 'vm0', { '10010000.dma': 'vm1' }).viable).toBe(true);
  });
});
