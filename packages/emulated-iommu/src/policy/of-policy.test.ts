import { thrownErrno } from '@vfiokit/core/testing';
import { DriverCore } from '@vfiokit/platform-bus';
import { ResetRegistry } from '@vfiokit/reset-modules';
import { SimpleIrqChip, Vfio, vfioMetaDriverData, vfioPlatformDriver } from '@vfiokit/vfio';
import { describe, expect, it } from 'vitest';
import type { DmaFacts } from './facts.js';
import { type DmaFactsLookup, OfDmaCapabilityPolicy } from './of-policy.js';

const I2C = '/soc/i2c@12ce0000';
const MAC = '/soc/ethernet@fff50000';
const FACTS: Record<string, DmaFacts> = {
  [I2C]: { path: I2C, compatible: ['samsung,s3c2440-i2c'] },
  [MAC]: { path: MAC, compatible: ['calxeda,hb-xgmac'], dmaCoherent: true },
  '/soc/gadget@0': { path: '/soc/gadget@0', compatible: ['vendor,gadget'] },
};
const lookup: DmaFactsLookup = (path) => FACTS[path];

function bus() {
  const core = new DriverCore();
  const add = (name: string, ofNode: string | undefined, compatible: string[], iommuGroup?: number) =>
    core.platform.addDevice({
      name,
      bus: 'platform',
      compatible,
      ...(ofNode === undefined ? {} : { ofNode }),
      ...(iommuGroup === undefined ? {} : { iommuGroup }),
    });
  return { core, add };
}

describe('OfDmaCapabilityPolicy: vfio DmaCapabilityPolicy over the facts of the device of_node', () => {
  it('looks the facts up by ofNode and fills in the kernel device name', () => {
    const seen: string[] = [];
    const policy = new OfDmaCapabilityPolicy(
      (path) => {
        seen.push(path);
        return lookup(path);
      },
      { overrides: [{ device: '12ce0000.i2c', verdict: 'master', reason: 'wired to a bus-master bridge' }] },
    );
    const { add } = bus();
    const v = policy.assess(add('12ce0000.i2c', I2C, ['samsung,s3c2440-i2c']));
    expect(seen).toEqual([I2C]);
    expect(v).toMatchObject({ verdict: 'master', cannotDma: false, entry: 'device:12ce0000.i2c' });
  });

  it('judges the facts: non-master i2c, master MAC, unknown gadget', () => {
    const policy = new OfDmaCapabilityPolicy(lookup);
    const { add } = bus();
    expect(policy.assess(add('12ce0000.i2c', I2C, ['samsung,s3c2440-i2c'])).cannotDma).toBe(true);
    expect(policy.assess(add('fff50000.ethernet', MAC, ['calxeda,hb-xgmac'])).verdict).toBe('master');
    expect(policy.assess(add('0.gadget', '/soc/gadget@0', ['vendor,gadget'])).verdict).toBe('unknown');
  });

  it('an IOMMU group on the device is hard evidence even when the firmware facts have no iommus', () => {
    const policy = new OfDmaCapabilityPolicy(lookup);
    const { add } = bus();
    const v = policy.assess(add('12ce0000.i2c', I2C, ['samsung,s3c2440-i2c'], 3));
    expect(v).toMatchObject({
      verdict: 'master',
      rule: 'iommus',
      reason: 'has iommus: masters DMA through iommu_group 3; overrules samsung,s3c2440-i2c',
    });
    expect(v.overruled.map((ref) => ref.entry)).toEqual(['samsung,s3c2440-i2c']);
  });

  it('an ofNode the lookup does not know is unknown (its facts could hold iommus), even for a table class', () => {
    const policy = new OfDmaCapabilityPolicy(() => undefined);
    const { add } = bus();
    const v = policy.assess(add('9000000.pl011', '/pl011@9000000', ['arm,pl011']));
    expect(v).toEqual({
      verdict: 'unknown',
      cannotDma: false,
      reason: 'no firmware facts for its device-tree node: DMA cannot be ruled out',
      rule: 'no-rule',
      source: 'facts lookup returned nothing for /pl011@9000000',
      dependsOnDmaEngine: [],
      overruled: [],
    });
  });

  it('a device made in code is judged on its name and compatible', () => {
    const policy = new OfDmaCapabilityPolicy(lookup, {
      overrides: [{ device: 'sensor.0', verdict: 'non-master' }],
    });
    const { add } = bus();
    expect(policy.assess(add('sensor.0', undefined, ['vendor,sensor'])).verdict).toBe('non-master');
    expect(policy.assess(add('rtc.1', undefined, ['arm,pl031'])).verdict).toBe('non-master');
    expect(policy.assess(add('thing.2', undefined, ['vendor,thing'])).verdict).toBe('unknown');
  });

  it('assessFacts judges facts directly (the analysis, per node)', () => {
    expect(new OfDmaCapabilityPolicy(lookup).assessFacts({ compatible: ['arm,pl061'] }).verdict).toBe(
      'non-master',
    );
  });

  it('checks its arguments: EINVAL for a lookup that is not a function and for unknown option keys', () => {
    expect(thrownErrno(() => new OfDmaCapabilityPolicy('x' as unknown as DmaFactsLookup))).toBe('EINVAL');
    expect(() => new OfDmaCapabilityPolicy(undefined as unknown as DmaFactsLookup)).toThrow(
      'OfDmaCapabilityPolicy: the facts lookup must be a function',
    );
    expect(
      thrownErrno(
        () => new OfDmaCapabilityPolicy(lookup, { overides: [] } as unknown as Record<string, never>),
      ),
    ).toBe('EINVAL');
  });

  it("is what vfio-platform's probe asks: non-master → emulated registration, unknown → EINVAL as without a policy", () => {
    const { core, add } = bus();
    const resets = new ResetRegistry();
    for (const compatible of ['samsung,s3c2440-i2c', 'vendor,gadget'])
      resets.register({ compatible, owner: 'test-reset', reset: () => undefined });
    core.platform.registerDriver(
      vfioPlatformDriver({
        vfio: new Vfio(),
        resets,
        irqChip: new SimpleIrqChip({}),
        iommuGroupOf: () => undefined,
        dmaPolicy: new OfDmaCapabilityPolicy(lookup),
      }),
    );
    const i2c = add('12ce0000.i2c', I2C, ['samsung,s3c2440-i2c']);
    const gadget = add('0.gadget', '/soc/gadget@0', ['vendor,gadget']);
    for (const device of [i2c, gadget]) {
      core.platform.setDriverOverride(device.name, 'vfio-platform');
      core.platform.driversProbe(device.name);
    }
    expect(vfioMetaDriverData(i2c)?.registration).toBe('emulated');
    expect(gadget.driverName).toBeNull();
    expect(gadget.lastProbeError?.code).toBe('EINVAL');
  });
});
