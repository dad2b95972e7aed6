import { thrownErrno } from '@vfiokit/core/testing';
import { DriverCore } from '@vfiokit/platform-bus';
import { recordingMetaDriver } from '@vfiokit/platform-bus/testing';
import { describe, expect, it } from 'vitest';
import {
  bindReportsProbeError,
  KERNEL_V6_18,
  type KernelProfile,
  kernelAtLeast,
  perDeviceMsiIsolation,
  viabilityByDmaOwnership,
} from './profile.js';

const v = (major: number, minor: number): KernelProfile => ({ version: [major, minor] });

describe('kernel profiles', () => {
  it('compare versions by major then minor', () => {
    expect(kernelAtLeast(v(5, 19), 5, 19)).toBe(true);
    expect(kernelAtLeast(v(5, 18), 5, 19)).toBe(false);
    expect(kernelAtLeast(v(6, 0), 5, 19)).toBe(true);
    expect(kernelAtLeast(KERNEL_V6_18, 6, 18)).toBe(true);
  });

  it('name the cut-overs the research gives: v5.13 bind errors, v5.19 viability, v6.3 MSI isolation', () => {
    expect([bindReportsProbeError(v(5, 12)), bindReportsProbeError(v(5, 13))]).toEqual([false, true]);
    expect([viabilityByDmaOwnership(v(5, 18)), viabilityByDmaOwnership(v(5, 19))]).toEqual([false, true]);
    expect([perDeviceMsiIsolation(v(6, 2)), perDeviceMsiIsolation(v(6, 3))]).toEqual([false, true]);
  });

  it.each([
    [v(5, 10), 'ENODEV'],
    [KERNEL_V6_18, 'EBUSY'],
  ])('drive platform-bus sysfs bind: a bound device refused with the errno of %o', (profile, errno) => {
    const core = new DriverCore({ legacyBindStore: !bindReportsProbeError(profile) });
    core.platform.registerDriver(recordingMetaDriver('vfio-platform'));
    core.platform.addDevice({
      name: 'fff51000.ethernet',
      bus: 'platform',
      compatible: ['calxeda,hb-xgmac'],
      driverOverride: 'vfio-platform',
    });
    expect(core.platform.device('fff51000.ethernet')?.driverName).toBe('vfio-platform');
    expect(thrownErrno(() => core.platform.bind('vfio-platform', 'fff51000.ethernet'))).toBe(errno);
  });
});
