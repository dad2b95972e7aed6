// Hosts and a snapshot of everything an assignment touches, for the assign tests.
import { readFileSync } from 'node:fs';
import { createHost, type Host, type KvmVmFile } from '@vfiokit/host';
import type { GuestVm } from '../assign/guest-vm.js';

export const fixtureDtb = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../../../shared/fixtures/dtb/${name}.dtb`, import.meta.url)));

/**
 * Juno r2: KVM (GICv2 with maintenance IRQ), the PL330 behind an MMU-401 (group 1). With
 * `iommufdUnsafe`, booted with `iommufd.allow_unsafe_interrupts=1` (iommufd's own parameter:
 * the GICv2 host has no isolated MSI, so BIND_IOMMUFD is EPERM without it).
 */
export const junoHost = (options: { readonly iommufdUnsafe?: boolean } = {}): Host =>
  createHost(fixtureDtb('juno-r2'), {
    reset_required: false,
    allow_unsafe_interrupts: true,
    ...(options.iommufdUnsafe === true ? { cmdline: 'iommufd.allow_unsafe_interrupts=1' } : {}),
  });

/** QEMU virt (no KVM in this tree): the PL031 with its host driver rtc-pl031, no-IOMMU mode. */
export const virtHost = (): Host =>
  createHost(fixtureDtb('qemu-virt-gicv2'), { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });

/** Everything an assignment changes on the host and in the VMM, as comparable text. */
export function hostState(host: Host, vm: GuestVm, device: string): string {
  const bus = host.fs.exists(`/sys/bus/amba/devices/${device}`) ? 'amba' : 'platform';
  const proc = vm.process;
  const irqfds =
    vm.kvm === undefined
      ? []
      : (proc.fdget(vm.kvm.vm) as KvmVmFile).vm.listIrqfds().map((i) => `${i.gsi}:${i.resample}`);
  return JSON.stringify({
    driver: host.device(device)?.driverName ?? null,
    override: host.fs.read(`/sys/bus/${bus}/devices/${device}/driver_override`),
    fds: proc.openFds,
    mappings: proc.mapped.length,
    lockedVm: proc.mm.lockedVm,
    map: vm.map.snapshot(),
    irqfds,
    devVfio: host.fs.ls('/dev/vfio'),
    owner: host.iommuGroupOf(device)?.ownerCnt ?? null,
  });
}
