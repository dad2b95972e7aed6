import { physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { DriverCore } from '@vfiokit/platform-bus';
import { primecellIdRegisters } from '@vfiokit/platform-bus/testing';
import { ResetRegistry } from '@vfiokit/reset-modules';
import { SimpleIrqChip, Vfio, vfioMetaDriverData } from '@vfiokit/vfio';
import { testIommuGroup } from '@vfiokit/vfio/testing';
import { describe, expect, it } from 'vitest';
import { assessDmaCapability } from '../policy/assess.js';
import type { DmaFacts } from '../policy/facts.js';
import { OfDmaCapabilityPolicy } from '../policy/of-policy.js';
import { vfioAmbaRfcDriver, vfioPlatformRfcDriver } from './vfio-platform-rfc.js';

const FACTS: Record<string, DmaFacts> = {
  '/i2c@12c60000': { path: '/i2c@12c60000', compatible: ['samsung,s3c2440-i2c'] },
  '/gadget@0': { path: '/gadget@0', compatible: ['vendor,gadget'] },
  '/ethernet@fff50000': { path: '/ethernet@fff50000', compatible: ['calxeda,hb-xgmac'], dmaCoherent: true },
  '/dma-controller@7ff00000': {
    path: '/dma-controller@7ff00000',
    compatible: ['arm,pl330', 'arm,primecell'],
    dmaCells: 1,
  },
  '/pl011@9000000': { path: '/pl011@9000000', compatible: ['arm,pl011', 'arm,primecell'] },
};
const policy = new OfDmaCapabilityPolicy((path) => FACTS[path]);

function rig(options: { noiommu?: boolean } = {}) {
  const core = new DriverCore();
  const vfio = new Vfio({ enableUnsafeNoiommuMode: options.noiommu ?? false, allowUnsafeInterrupts: true });
  const log: string[] = [];
  const resets = new ResetRegistry();
  for (const compatible of ['samsung,s3c2440-i2c', 'vendor,gadget', 'calxeda,hb-xgmac'])
    resets.register({ compatible, owner: 'test-reset', reset: () => undefined });
  const grouped = testIommuGroup({ id: 7, devices: [{ name: 'fff50000.ethernet' }] });
  const common = {
    vfio,
    resets,
    irqChip: new SimpleIrqChip({}),
    iommuGroupOf: (device: { name: string }) => (device.name === 'fff50000.ethernet' ? grouped : undefined),
    dmaPolicy: policy,
    log: (line: string) => log.push(line),
  };
  core.platform.registerDriver(vfioPlatformRfcDriver(common));
  core.amba.registerDriver(vfioAmbaRfcDriver(common));
  const platform = (name: string, ofNode: string) => {
    const device = core.platform.addDevice({
      name,
      bus: 'platform',
      ofNode,
      compatible: [...(FACTS[ofNode]?.compatible ?? [])],
      regions: [{ start: physAddr(0x1000_0000), size: 0x1000 }],
    });
    core.platform.setDriverOverride(name, 'vfio-platform-rfc');
    core.platform.driversProbe(name);
    return device;
  };
  const amba = (name: string, ofNode: string, periphid: number) => {
    const device = core.amba.addDevice({
      name,
      bus: 'amba',
      ofNode,
      compatible: [...(FACTS[ofNode]?.compatible ?? [])],
      regions: [{ start: physAddr(0x7ff0_0000), size: 0x1000 }],
      periphid,
      primecell: primecellIdRegisters(periphid),
    });
    core.amba.setDriverOverride(name, 'vfio-amba-rfc');
    core.amba.driversProbe(name);
    return device;
  };
  return { vfio, log, platform, amba };
}

describe('the 2024 RFC’s vfio-platform (a proposal, not in Linux; opt-in)', () => {
  it('non-master without an IOMMU group: emulated group, no taint, no no-IOMMU mode needed', () => {
    const r = rig();
    const i2c = r.platform('12c60000.i2c', '/i2c@12c60000');
    expect(vfioMetaDriverData(i2c)?.registration).toBe('emulated');
    expect(i2c.driverName).toBe('vfio-platform-rfc');
    expect(r.vfio.taint).toBe(0);
  });

  it('unknown: EINVAL (as vfio_group_find_or_alloc today) with the policy’s one-line reason', () => {
    const r = rig();
    const gadget = r.platform('0.gadget', '/gadget@0');
    const reason = assessDmaCapability(FACTS['/gadget@0']!).reason;
    expect(gadget.driverName).toBeNull();
    expect(gadget.lastProbeError?.code).toBe('EINVAL');
    expect(gadget.lastProbeError?.message).toContain(reason);
    expect(r.log).toContain(
      `vfio-platform-rfc 0.gadget: no IOMMU group and DMA not ruled out (unknown): ${reason}`,
    );
  });

  it('master (a PL330 on the AMBA flavour): EINVAL with the policy’s reason', () => {
    const r = rig();
    const pl330 = r.amba('7ff00000.dma-controller', '/dma-controller@7ff00000', 0x00241330);
    expect(pl330.driverName).toBeNull();
    expect(pl330.lastProbeError?.code).toBe('EINVAL');
    expect(pl330.lastProbeError?.message).toContain('(master)');
    expect(pl330.lastProbeError?.message).toContain(
      assessDmaCapability(FACTS['/dma-controller@7ff00000']!).reason,
    );
  });

  it('a device with an IOMMU group takes the upstream path unchanged', () => {
    const r = rig();
    const mac = r.platform('fff50000.ethernet', '/ethernet@fff50000');
    expect(vfioMetaDriverData(mac)?.registration).toBe('iommu');
  });

  it('with enable_unsafe_noiommu_mode on, an uncleared device takes the upstream no-IOMMU path (taints)', () => {
    const r = rig({ noiommu: true });
    const gadget = r.platform('0.gadget', '/gadget@0');
    expect(vfioMetaDriverData(gadget)?.registration).toBe('noiommu');
    expect(r.vfio.taint).toBe(64);
    const i2c = r.platform('12c60000.i2c', '/i2c@12c60000');
    expect(vfioMetaDriverData(i2c)?.registration).toBe('emulated');
  });

  it('the AMBA flavour clears a PL011 by the policy’s table', () => {
    const r = rig();
    const uart = r.amba('9000000.pl011', '/pl011@9000000', 0x00141011);
    expect(vfioMetaDriverData(uart)?.registration).toBe('emulated');
  });

  it('needs a policy and checks its options (EINVAL)', () => {
    const base = {
      vfio: new Vfio(),
      resets: new ResetRegistry(),
      irqChip: new SimpleIrqChip({}),
      iommuGroupOf: () => undefined,
    };
    expect(thrownErrno(() => vfioPlatformRfcDriver(base as never))).toBe('EINVAL');
    expect(thrownErrno(() => vfioPlatformRfcDriver({ ...base, dmaPolicy: policy, extra: 1 } as never))).toBe(
      'EINVAL',
    );
    expect(vfioPlatformRfcDriver({ ...base, dmaPolicy: policy, name: 'vfio-platform' }).name).toBe(
      'vfio-platform',
    );
    expect(vfioAmbaRfcDriver({ ...base, dmaPolicy: policy }).name).toBe('vfio-amba-rfc');
  });
});
