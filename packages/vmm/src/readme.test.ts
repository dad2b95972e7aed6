// Runs the README's examples.
import { describe, expect, it } from 'vitest';
import { GuestAddressMap } from './address-map/guest-address-map.js';
import { assignDevice, releaseDevice } from './assign/assign.js';
import { GuestVm } from './assign/guest-vm.js';
import { junoHost } from './test-support/assign.js';

describe('README', { timeout: 60_000 }, () => {
  it('guest address map', () => {
    const map = GuestAddressMap.qemuVirt({ ramSize: 0x4000_0000n });
    expect(map.allocateMmio('fff51000.ethernet', 0x1000n)).toEqual({
      owner: 'fff51000.ethernet',
      base: 0x0c00_0000n,
      size: 0x1000n,
    });
    expect(map.allocateIrq('fff51000.ethernet')).toBe(112);
    map.addWindow({ name: 'uart', base: 0x0900_0000n, size: 0x1000n });
    expect(map.release('fff51000.ethernet')).toBe(2);
  });

  it('assign and release', async () => {
    const host = junoHost(); // createHost(junoDtb, { reset_required: false, allow_unsafe_interrupts: true })
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const a = await assignDevice(host, vm, '7ff00000.dma-controller');
    expect(a.steps[0]).toEqual({
      step: 'driver_override',
      detail: 'echo vfio-amba > /sys/bus/amba/devices/7ff00000.dma-controller/driver_override',
    });
    expect(a.steps.at(-1)?.step).toBe('guest_node');
    expect(a.guest.dts).toContain('compatible = "pkvm,pviommu";');
    await releaseDevice(a);
    expect(host.device('7ff00000.dma-controller')?.driverName).toBeNull();
  });
});
