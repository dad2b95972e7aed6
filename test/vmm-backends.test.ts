// One VMM flow, two back ends (issue #16 item 4): the same device assigned through the legacy
// container (type1v2 / no-IOMMU) and through iommufd (/dev/iommu + /dev/vfio/devices/vfioN)
// gives the same guest-visible result — guest DTS, regions, IRQ count and types, a DMA through
// the SMMU reaching the same guest page — and the differences are the kernel's, listed in
// KERNEL_DIFFERENCES and each asserted below.
import { readFileSync } from 'node:fs';
import { isKernelError } from '@vfiokit/core';
import { createHost, type Host, type KvmVmFile } from '@vfiokit/host';
import * as iommufdUapi from '@vfiokit/iommufd';
import { iommufdTaskOf } from '@vfiokit/vfio';
import {
  type AssignBackend,
  AssignError,
  type Assignment,
  assignDevice,
  GuestVm,
  IOMMUFD_ASSIGN_STEPS,
  releaseDevice,
  type VmmKind,
} from '@vfiokit/vmm';
import { describe, expect, it } from 'vitest';
import * as vmmUapi from '../packages/vmm/src/assign/iommufd-uapi.js';

const dtb = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../shared/fixtures/dtb/${name}.dtb`, import.meta.url)));

const PL330 = '7ff00000.dma-controller';
const PL031 = '9010000.pl031';

/**
 * Where the two back ends differ, as the kernel makes them differ (Linux 6.12). Each entry is
 * checked by a test below.
 */
const KERNEL_DIFFERENCES = {
  msiIsolation:
    'iommufd_device_bind (drivers/iommu/iommufd/device.c) checks iommu_group_has_isolated_msi against ' +
    "iommufd's own allow_unsafe_interrupts parameter, not vfio_iommu_type1's: on Juno r2 (GICv2, no " +
    'isolated MSI) with only vfio_iommu_type1.allow_unsafe_interrupts=1, legacy assigns and iommufd ' +
    'fails at bind_iommufd with EPERM',
  noIommu:
    'a no-IOMMU device has no cdev (drivers/vfio/vfio.h vfio_device_add: "cdev does not support noiommu ' +
    'device"): <dev>/vfio-dev/vfioN exists, /dev/vfio/devices/vfioN does not, open_cdev is ENOENT',
  accounting:
    'type1 charges pinned guest RAM to mm->locked_vm even with CAP_IPC_LOCK (vfio_lock_acct; the cap ' +
    'only lifts the limit); iommufd charges nothing with CAP_IPC_LOCK (pages.c iopt_alloc_pages: ' +
    "IOPT_PAGES_ACCOUNT_NONE) and the user's locked_vm without it (IOPT_PAGES_ACCOUNT_USER)",
  kvmFile:
    'KVM_DEV_VFIO_FILE_ADD takes the group fd on legacy, the device cdev fd on iommufd, and on iommufd ' +
    'must come before VFIO_DEVICE_BIND_IOMMUFD (vfio_df_ioctl_bind_iommufd → vfio_df_get_kvm_safe)',
  steps:
    'open_container/open_group/set_container/set_iommu/map_ram/get_device become ' +
    'open_iommufd/open_cdev/bind_iommufd/ioas_alloc/attach_ioas/ioas_map',
} as const;

const junoHost = (cmdline = ''): Host =>
  createHost(dtb('juno-r2'), { reset_required: false, allow_unsafe_interrupts: true, cmdline });
const virtHost = (cmdline = ''): Host => createHost(dtb('qemu-virt-gicv2'), { cmdline });

interface Run {
  readonly host: Host;
  readonly vm: GuestVm;
  readonly a: Assignment;
}

async function run(
  makeHost: (cmdline?: string) => Host,
  vmm: VmmKind,
  device: string,
  backend: AssignBackend,
  extra: { driver?: string; unsafeIommufd?: boolean } = {},
): Promise<Run> {
  // iommufd's own module parameter, on the host's command line (drivers/iommu/iommufd/device.c).
  const host = extra.unsafeIommufd === true ? makeHost('iommufd.allow_unsafe_interrupts=1') : makeHost();
  const vm = GuestVm.create(host, { vmm });
  const a = await assignDevice(host, vm, device, {
    backend,
    ...(extra.driver === undefined ? {} : { driver: extra.driver }),
  });
  return { host, vm, a };
}

/** What the guest sees: its tree, the device's regions, its IRQs and their types. */
function guestVisible(r: Run) {
  return {
    dts: r.a.guest.dts,
    regions: r.a.regions.map((x) => ({ index: x.index, flags: x.flags, size: x.size })),
    irqs: r.a.irqs.map((x) => ({ index: x.index, flags: x.flags, count: x.count })),
    view: r.a.view,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('vmm back ends: the iommufd encodings are the header’s', () => {
  it('IOMMU_* numbers and flags equal @vfiokit/iommufd’s (checked against <linux/iommufd.h> by its C test)', () => {
    expect([
      vmmUapi.IOMMU_DESTROY,
      vmmUapi.IOMMU_IOAS_ALLOC,
      vmmUapi.IOMMU_IOAS_MAP,
      vmmUapi.IOMMU_IOAS_UNMAP,
      vmmUapi.IOMMU_IOAS_MAP_FIXED_IOVA,
      vmmUapi.IOMMU_IOAS_MAP_READABLE,
      vmmUapi.IOMMU_IOAS_MAP_WRITEABLE,
    ]).toEqual([
      iommufdUapi.IOMMU_DESTROY,
      iommufdUapi.IOMMU_IOAS_ALLOC,
      iommufdUapi.IOMMU_IOAS_MAP,
      iommufdUapi.IOMMU_IOAS_UNMAP,
      iommufdUapi.IOMMU_IOAS_MAP_FIXED_IOVA,
      iommufdUapi.IOMMU_IOAS_MAP_READABLE,
      iommufdUapi.IOMMU_IOAS_MAP_WRITEABLE,
    ]);
    expect(
      vmmUapi.iommuIoasMapArg({ ioasId: 1, flags: 7, userVa: 0x1000, length: 0x2000, iova: 3n }),
    ).toEqual(
      iommufdUapi.encodeStruct(iommufdUapi.IOMMU_IOAS_MAP_STRUCT, {
        size: 40n,
        flags: 7n,
        ioas_id: 1n,
        user_va: 0x1000n,
        length: 0x2000n,
        iova: 3n,
      }),
    );
    expect(vmmUapi.iommuIoasUnmapArg(2, 0x4000n, 0x1000)).toEqual(
      iommufdUapi.encodeStruct(iommufdUapi.IOMMU_IOAS_UNMAP_STRUCT, {
        size: 24n,
        ioas_id: 2n,
        iova: 0x4000n,
        length: 0x1000n,
      }),
    );
  });
});

describe('vmm back ends: Juno r2 PL330 through the MMU-401 (crosvm, KVM irqfd + resamplefd)', {
  timeout: 60_000,
}, () => {
  it(`differs where the kernel does: ${KERNEL_DIFFERENCES.msiIsolation}`, async () => {
    const legacy = await run(junoHost, 'crosvm', PL330, 'legacy');
    expect(legacy.a.iommuType).toBe('type1v2');
    const host = junoHost();
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const e = (await rejection(assignDevice(host, vm, PL330, { backend: 'iommufd' }))) as AssignError;
    expect(e).toBeInstanceOf(AssignError);
    expect([e.step, e.code, e.undoFailures]).toEqual(['bind_iommufd', 'EPERM', []]);
    expect(host.device(PL330)?.driverName).toBeNull();
    expect(vm.process.openFds).toEqual([vm.kvm?.kvm, vm.kvm?.vm, vm.kvm?.vgic, vm.kvm?.vcpu, vm.kvm?.vfio]);
    await releaseDevice(legacy.a);
  });

  it('gives the same guest DTS, regions, IRQs and a DMA reaching the same guest page (iommufd.allow_unsafe_interrupts=1)', async () => {
    const legacy = await run(junoHost, 'crosvm', PL330, 'legacy');
    const iommufd = await run(junoHost, 'crosvm', PL330, 'iommufd', { unsafeIommufd: true });
    expect(iommufd.a.steps.map((s) => s.step)).toEqual([...IOMMUFD_ASSIGN_STEPS]);
    expect(iommufd.a.backend).toBe('iommufd');
    expect(iommufd.a.iommufd?.cdev).toMatch(/^vfio\d+$/);
    expect(guestVisible(iommufd)).toEqual(guestVisible(legacy));
    expect(legacy.a.irqs).toHaveLength(9);
    expect(legacy.a.view.irqs.every((q) => q.automasked && q.trigger === 'level-high')).toBe(true);
    for (const r of [legacy, iommufd]) {
      // The PL330's master port, through the MMU-401's tables (stream IDs 0..8): guest RAM
      // IOVA ramBase + 0x1234 reaches the host page behind the VMM's RAM at +0x1234.
      const where = r.host.iommuOf(PL330);
      // Models are keyed by the platform device name: /iommu@7fb00000 → 7fb00000.iommu.
      const [name, unit] = (where?.node ?? '').slice(1).split('@');
      const smmu = r.host.iommu.smmus.models.get(`${unit}.${name}`);
      expect(smmu).toBeDefined();
      expect(where?.streamIds).toHaveLength(9);
      const page = r.vm.process.mm.addressSpace.resolve(r.vm.ramVaddr + 0x1234, 1)[0]?.paddr;
      expect(page).toBeDefined();
      for (const sid of where?.streamIds ?? [])
        expect(smmu?.translate(sid, (Number(r.vm.ramBase) + 0x1234) as never, 'write')).toBe(page);
    }
    // Same guest page on both hosts (same allocation order): the DMA lands on the same frame.
    expect(iommufd.vm.process.mm.addressSpace.resolve(iommufd.vm.ramVaddr, 1)[0]?.paddr).toBe(
      legacy.vm.process.mm.addressSpace.resolve(legacy.vm.ramVaddr, 1)[0]?.paddr,
    );
    // KVM irqfds: the same GSIs with resamplefds on both.
    const irqfds = (r: Run) =>
      (r.vm.process.fdget(r.vm.kvm?.vm as number) as KvmVmFile).vm
        .listIrqfds()
        .map((i) => [i.gsi, i.resample]);
    expect(irqfds(iommufd)).toEqual(irqfds(legacy));
    expect(irqfds(legacy)).toHaveLength(9);
    await releaseDevice(legacy.a);
    await releaseDevice(iommufd.a);
    expect(iommufd.host.device(PL330)?.driverName).toBeNull();
  });

  it(`accounts pins where the kernel does: ${KERNEL_DIFFERENCES.accounting}`, async () => {
    for (const capabilities of [undefined, ['CAP_SYS_RAWIO'] as const]) {
      // 4 MiB of RAM: under the 8 MiB RLIMIT_MEMLOCK a process without CAP_IPC_LOCK has.
      const vmOptions = {
        vmm: 'crosvm' as const,
        ramSize: 0x40_0000,
        ...(capabilities ? { capabilities } : {}),
      };
      const legacyHost = junoHost();
      const legacyVm = GuestVm.create(legacyHost, vmOptions);
      const legacy = await assignDevice(legacyHost, legacyVm, PL330, { backend: 'legacy' });
      const host = junoHost('iommufd.allow_unsafe_interrupts=1');
      const vm = GuestVm.create(host, vmOptions);
      const iommufd = await assignDevice(host, vm, PL330, { backend: 'iommufd' });
      const pages = 0x40_0000 / 4096;
      expect(legacyVm.process.mm.lockedVm).toBe(pages);
      expect(iommufdTaskOf(legacyVm.process).user.lockedVm).toBe(0);
      expect(vm.process.mm.lockedVm).toBe(0);
      expect(iommufdTaskOf(vm.process).user.lockedVm).toBe(capabilities === undefined ? 0 : pages);
      await releaseDevice(legacy);
      await releaseDevice(iommufd);
      expect(legacyVm.process.mm.lockedVm).toBe(0);
      expect(iommufdTaskOf(vm.process).user.lockedVm).toBe(0);
    }
  });

  it('without CAP_IPC_LOCK both refuse RAM over RLIMIT_MEMLOCK with ENOMEM, at their own map step', async () => {
    const refusal = async (backend: AssignBackend) => {
      const host = junoHost('iommufd.allow_unsafe_interrupts=1');
      const vm = GuestVm.create(host, { vmm: 'crosvm', capabilities: ['CAP_SYS_RAWIO'] }); // 16 MiB > 8 MiB
      const e = (await rejection(assignDevice(host, vm, PL330, { backend }))) as AssignError;
      expect(vm.process.mm.lockedVm).toBe(0);
      expect(iommufdTaskOf(vm.process).user.lockedVm).toBe(0);
      return [e.step, e.code];
    };
    expect(await refusal('legacy')).toEqual(['map_ram', 'ENOMEM']);
    expect(await refusal('iommufd')).toEqual(['ioas_map', 'ENOMEM']);
  });

  it(`hands KVM the right file: ${KERNEL_DIFFERENCES.kvmFile}`, async () => {
    const legacy = await run(junoHost, 'crosvm', PL330, 'legacy');
    const iommufd = await run(junoHost, 'crosvm', PL330, 'iommufd', { unsafeIommufd: true });
    expect(legacy.a.steps.find((s) => s.step === 'kvm_vfio_add')?.detail).toMatch(/\(group\)$/);
    expect(iommufd.a.steps.find((s) => s.step === 'kvm_vfio_add')?.detail).toMatch(/\(device cdev\)$/);
    const order = iommufd.a.steps.map((s) => s.step);
    expect(order.indexOf('kvm_vfio_add')).toBeLessThan(order.indexOf('bind_iommufd'));
    await releaseDevice(legacy.a);
    await releaseDevice(iommufd.a);
  });
});

describe('vmm back ends: QEMU virt PL031 through vfio-pl031 (emulated IOMMU, no KVM)', () => {
  it('gives the same guest DTS, regions and IRQs; iommufd binds an iommufd_access', async () => {
    const legacy = await run(() => virtHost(), 'crosvm', PL031, 'legacy', { driver: 'vfio-pl031' });
    const iommufd = await run(() => virtHost(), 'crosvm', PL031, 'iommufd', { driver: 'vfio-pl031' });
    expect(guestVisible(iommufd)).toEqual(guestVisible(legacy));
    expect(legacy.a.iommuType).toBe('type1v2');
    expect(iommufd.a.iommuType).toBe('iommufd');
    await releaseDevice(legacy.a);
    await releaseDevice(iommufd.a);
    for (const r of [legacy, iommufd]) {
      expect(r.host.device(PL031)?.driverName).toBe('rtc-pl031');
      expect(r.vm.process.openFds).toEqual([]);
    }
  });
});

describe('vmm back ends: a no-IOMMU device (QEMU virt PL031, vfio.enable_unsafe_noiommu_mode=1)', () => {
  it(`iommufd refuses: ${KERNEL_DIFFERENCES.noIommu}`, async () => {
    const noiommu = () => virtHost('vfio.enable_unsafe_noiommu_mode=1');
    const legacy = await run(noiommu, 'xen', PL031, 'legacy');
    expect(legacy.a.iommuType).toBe('noiommu');
    await releaseDevice(legacy.a);
    const host = noiommu();
    const vm = GuestVm.create(host, { vmm: 'xen' });
    const e = await rejection(assignDevice(host, vm, PL031, { backend: 'iommufd' }));
    expect(e).toBeInstanceOf(AssignError);
    expect([(e as AssignError).step, (e as AssignError).code]).toEqual(['open_cdev', 'ENOENT']);
    expect((e as AssignError).message).toMatch(/\/dev\/vfio\/devices\/vfio\d+ does not exist/);
    expect(isKernelError(e, 'ENOENT')).toBe(true);
    expect(host.device(PL031)?.driverName).toBe('rtc-pl031');
    expect(vm.process.openFds).toEqual([]);
  });
});

describe('vmm back ends: step lists', () => {
  it(`name what they do: ${KERNEL_DIFFERENCES.steps}`, async () => {
    const legacy = await run(() => virtHost(), 'crosvm', PL031, 'legacy', { driver: 'vfio-pl031' });
    const iommufd = await run(() => virtHost(), 'crosvm', PL031, 'iommufd', { driver: 'vfio-pl031' });
    const l = legacy.a.steps.map((s) => s.step as string);
    const i = iommufd.a.steps.map((s) => s.step as string);
    expect(l.filter((s) => !i.includes(s))).toEqual([
      'open_container',
      'open_group',
      'set_container',
      'set_iommu',
      'map_ram',
      'get_device',
    ]);
    expect(i.filter((s) => !l.includes(s))).toEqual([
      'open_iommufd',
      'open_cdev',
      'bind_iommufd',
      'ioas_alloc',
      'attach_ioas',
      'ioas_map',
    ]);
    await releaseDevice(legacy.a);
    await releaseDevice(iommufd.a);
  });
});
