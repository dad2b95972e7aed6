import { KernelError } from '@vfiokit/core';
import type { DriverSpec } from './device.js';

/**
 * The `amba-proxy` stub driver (drivers/amba/bus.c amba_stub_drv_init, registered at
 * late_initcall_sync when the kernel has modules): its id table is only the `{ 0, 0 }`
 * terminator, so it matches nothing, but with it registered amba_match() is called for
 * every AMBA device even when no AMBA driver is built in. That is what reads a device's
 * PrimeCell IDs, defers it while they cannot be read, and sends the held-back `add` uevent
 * that lets user space load the driver module.
 */
export function ambaProxyDriver(): DriverSpec {
  return {
    name: 'amba-proxy',
    ambaIdTable: [{ id: 0, mask: 0 }],
    probe: () => {
      // amba_proxy_probe(): WARN(1, "Stub driver should never match any device.\n").
      throw new KernelError('ENODEV', 'Stub driver should never match any device.');
    },
  };
}
