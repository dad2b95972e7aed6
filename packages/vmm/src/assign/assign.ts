// assignDevice(): what a VMM does to hand a host device to a guest, one step per kernel
// interface, each with an undo. On a failure the undos of the steps done so far run in
// reverse — device back with its host driver and driver_override cleared, DMA unmapped,
// region mmaps gone, irqfds deassigned, eventfds and VFIO fds closed, guest map entries
// released — and an AssignError names the step and the errno. releaseDevice() runs the same
// undos for a finished assignment; closing the device fd is what resets the device
// (vfio_platform_close_device → vfio_platform_call_reset), before the host driver rebinds.
//
// The order is QEMU's (hw/vfio/platform.c vfio_platform_realize → vfio_attach_device:
// container, group, KVM-VFIO add, SET_IOMMU, the memory listener's MAP_DMA of all RAM,
// GET_DEVICE_FD, device/region/IRQ info; then sysbus mmio/irq mapping and
// vfio_start_irqfd_injection: TRIGGER eventfd, UNMASK eventfd as KVM resamplefd for
// AUTOMASKED IRQs) preceded by the sysfs recipe users script (driver_override, unbind, bind).
//
// backend 'iommufd' replaces the container and group steps with QEMU's iommufd ones
// (hw/vfio/iommufd.c, iommufd-steps.ts): /dev/iommu, the device cdev, KVM-VFIO add of the cdev
// fd, BIND_IOMMUFD, IOAS_ALLOC, ATTACH_IOMMUFD_PT, IOAS_MAP of RAM; the device steps after
// them are the same code on the cdev's fd.
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceTree } from '@vfiokit/devicetree';
import { populate } from '@vfiokit/devicetree';
import type { Host, HostMapping } from '@vfiokit/host';
import { EMULATED_DRIVERS, kvmDeviceAttrArg } from '@vfiokit/host';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import {
  type IrqInfo,
  type RegionInfo,
  VfioContainerHandle,
  type VfioDeviceHandle,
  VfioGroupHandle,
} from '@vfiokit/vfio';
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_NOIOMMU_IOMMU,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_TYPE1v2_IOMMU,
} from '@vfiokit/vfio/uapi';
import type { AssignedDeviceView, AssignedIrq, AssignedRegion } from '../guest-dt/assigned-device.js';
import { qemuPlatformBusTree } from '../guest-dt/qemu-sysbus-fdt.js';
import { renderTree } from '../guest-dt/render.js';
import { crosvmGuestTree, vmDtboTemplate } from '../guest-dt/vm-dtbo.js';
import { xenPartialDt } from '../guest-dt/xen-partial-dt.js';
import { type AssignBackend, AssignError, type AssignStep, assignStepsOf } from './assign-error.js';
import type { GuestVm } from './guest-vm.js';
import { IOMMUFD_STEP_IMPLS } from './iommufd-steps.js';
import type { AssignOptions, Ctx, StepImpl, StepRecord, Undo } from './step-context.js';

export type { AssignOptions, StepImpl, StepRecord } from './step-context.js';

/** A finished assignment. */
export interface Assignment {
  readonly device: string;
  readonly bus: 'platform' | 'amba';
  readonly driver: string;
  /** The host driver before, rebound at release (null if none). */
  readonly hostDriver: string | null;
  /** The back end the assignment went through. */
  readonly backend: AssignBackend;
  /** The group node (`1`, `noiommu-0`); on iommufd the IOMMU group's number, for the record. */
  readonly group: string;
  /** type1v2 or no-IOMMU on the legacy back end; `iommufd` on the other. */
  readonly iommuType: 'type1v2' | 'noiommu' | 'iommufd';
  /** On iommufd: the cdev (`vfio<N>`), the devid BIND returned and the IOAS id. */
  readonly iommufd?: { readonly cdev: string; readonly devid: number; readonly ioasId: number };
  readonly regions: readonly RegionInfo[];
  readonly irqs: readonly IrqInfo[];
  readonly view: AssignedDeviceView;
  /** The guest fragment: QEMU's tree, crosvm's tree after the overlay, or Xen's partial DT. */
  readonly guest: { readonly dtb: Uint8Array; readonly dts: string };
  readonly steps: readonly StepRecord[];
  /** Internal: the undo actions, run by releaseDevice. */
  readonly undo: readonly Undo[];
  released: boolean;
}

const awaitWrite = async (r: number | Promise<number>): Promise<void> => {
  await r;
};

const devPath = (c: Ctx) => `/sys/bus/${c.bus}/devices/${c.name}`;

/** Binds the device back to `driver` (or just probes) after clearing driver_override. */
async function handBack(c: Ctx): Promise<void> {
  const dev = c.host.device(c.name);
  const current = dev?.driverName ?? null;
  if (current !== null && current !== c.hostDriver)
    await awaitWrite(c.host.fs.write(`/sys/bus/${c.bus}/drivers/${current}/unbind`, c.name));
  // An empty write never reaches the store (sysfs_kf_write); "\n" clears the override.
  await awaitWrite(c.host.fs.write(`${devPath(c)}/driver_override`, '\n'));
  if (c.hostDriver !== null && c.host.device(c.name)?.driverName !== c.hostDriver)
    await awaitWrite(c.host.fs.write(`/sys/bus/${c.bus}/drivers/${c.hostDriver}/bind`, c.name));
}

const LEGACY_STEP_IMPLS = {
  driver_override: async (c, push) => {
    const dev = c.host.device(c.name);
    if (dev === undefined) throw new KernelError('ENODEV', `no device ${c.name} on the platform or AMBA bus`);
    c.bus = c.host.fs.exists(`/sys/bus/amba/devices/${c.name}`) ? 'amba' : 'platform';
    c.hostDriver = dev.driverName;
    c.driver = c.options.driver ?? (c.bus === 'amba' ? 'vfio-amba' : 'vfio-platform');
    if (
      EMULATED_DRIVERS.some((d) => d.driver === c.driver) &&
      !c.host.fs.exists(`/sys/bus/${c.bus}/drivers/${c.driver}`)
    )
      c.host.loadEmulatedDriver(c.driver);
    push(() => handBack(c));
    await awaitWrite(c.host.fs.write(`${devPath(c)}/driver_override`, c.driver));
    return `echo ${c.driver} > ${devPath(c)}/driver_override`;
  },
  unbind: async (c) => {
    if (c.hostDriver === null) return 'no host driver bound';
    await awaitWrite(c.host.fs.write(`/sys/bus/${c.bus}/drivers/${c.hostDriver}/unbind`, c.name));
    return `echo ${c.name} > /sys/bus/${c.bus}/drivers/${c.hostDriver}/unbind`;
  },
  bind: async (c) => {
    await awaitWrite(c.host.fs.write(`/sys/bus/${c.bus}/drivers/${c.driver}/bind`, c.name));
    const bound = c.host.device(c.name)?.driverName;
    if (bound !== c.driver) throw new KernelError('ENODEV', `${c.driver} did not bind ${c.name}`);
    return `echo ${c.name} > /sys/bus/${c.bus}/drivers/${c.driver}/bind`;
  },
  open_container: (c, push) => {
    const container = VfioContainerHandle.open(c.vm.process);
    c.container = container;
    push(() => container.close());
    return `open /dev/vfio/vfio = ${container.fd}`;
  },
  open_group: (c, push) => {
    const link = c.host.fs.readlink(`${devPath(c)}/iommu_group`);
    const id = link.split('/').pop() as string;
    const node = c.host.fs.exists(`/dev/vfio/${id}`) ? id : `noiommu-${id}`;
    const group = VfioGroupHandle.open(c.vm.process, node);
    c.group = group;
    c.groupName = node;
    c.kvmVfioFd = group.fd;
    push(() => group.close());
    const status = group.status();
    if (!status.viable)
      throw new KernelError('EPERM', `group ${node} is not viable: another member is bound to a host driver`);
    return `open /dev/vfio/${node} = ${group.fd}`;
  },
  set_container: (c, push) => {
    const group = c.group as VfioGroupHandle;
    group.setContainer(c.container as VfioContainerHandle);
    push(() => group.unsetContainer());
    return 'VFIO_GROUP_SET_CONTAINER';
  },
  // The group fd on legacy, the device cdev fd on iommufd (virt/kvm/vfio.c kvm_vfio_file_add
  // takes either: vfio_file_is_valid is true for group and device files).
  kvm_vfio_add: (c, push) => {
    const kvm = c.vm.kvm;
    if (kvm === undefined) return 'no KVM: skipped';
    const fd = c.kvmVfioFd as number;
    const attr = (a: number) => kvmDeviceAttrArg({ group: K.KVM_DEV_VFIO_FILE, attr: a, value: { fd } });
    c.vm.process.ioctl(kvm.vfio, K.KVM_SET_DEVICE_ATTR, attr(K.KVM_DEV_VFIO_FILE_ADD));
    push(() => {
      c.vm.process.ioctl(kvm.vfio, K.KVM_SET_DEVICE_ATTR, attr(K.KVM_DEV_VFIO_FILE_DEL));
    });
    return `KVM_DEV_VFIO_FILE_ADD fd ${fd} (${c.backend === 'iommufd' ? 'device cdev' : 'group'})`;
  },
  set_iommu: (c) => {
    const noiommu = (c.groupName ?? '').startsWith('noiommu-');
    c.iommuType = noiommu ? 'noiommu' : 'type1v2';
    (c.container as VfioContainerHandle).setIommu(noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU);
    return noiommu ? 'VFIO_SET_IOMMU VFIO_NOIOMMU_IOMMU' : 'VFIO_SET_IOMMU VFIO_TYPE1v2_IOMMU';
  },
  map_ram: (c, push) => {
    // No-IOMMU has no MAP_DMA: the device sees host physical addresses (that is its danger).
    if (c.iommuType === 'noiommu') return 'no-IOMMU: no DMA mapping';
    const container = c.container as VfioContainerHandle;
    const iova = c.vm.ramBase;
    container.mapDma({ vaddr: c.vm.ramVaddr, iova, size: c.vm.ramSize, read: true, write: true });
    push(() => {
      container.unmapDma({ iova, size: c.vm.ramSize });
    });
    return `VFIO_IOMMU_MAP_DMA iova 0x${iova.toString(16)} size 0x${c.vm.ramSize.toString(16)}`;
  },
  get_device: (c, push) => {
    const device = (c.group as VfioGroupHandle).getDevice(c.name);
    c.device = device;
    push(() => device.close());
    return `VFIO_GROUP_GET_DEVICE_FD = ${device.fd}`;
  },
  device_info: (c) => {
    const device = c.device as VfioDeviceHandle;
    const info = device.info();
    c.info = info;
    for (let i = 0; i < info.numRegions; i++) c.regions.push(device.regionInfo(i));
    for (let i = 0; i < info.numIrqs; i++) c.irqs.push(device.irqInfo(i));
    return `${info.numRegions} region(s), ${info.numIrqs} IRQ(s)`;
  },
  place: (c, push) => {
    const map = c.vm.map;
    const hostDev = c.host.dtDevices.find((d) => d.name === c.name);
    const hostSpis =
      hostDev?.irqs.map((i) => (i.gicType === 'SPI' && i.intid !== undefined ? i.intid - 32 : undefined)) ??
      [];
    const triggers = hostDev?.irqs.map((i) => i.trigger ?? 'none') ?? [];
    push(() => {
      map.release(c.name);
    });
    const page = map.pageSize;
    const regions: AssignedRegion[] = c.regions.map((r, i) => {
      const size = BigInt(r.size);
      const rounded = ((size + page - 1n) / page) * page;
      const base = map.allocateMmio(c.name, rounded).base;
      return { hostAddress: hostDev?.regions[i]?.address ?? 0n, size, guestAddress: base };
    });
    const irqs: AssignedIrq[] = c.irqs.map((irq, i) => {
      const automasked = (irq.flags & VFIO_IRQ_INFO_AUTOMASKED) !== 0;
      const hostSpi = hostSpis[i];
      const guestSpi = c.vm.vmm === 'xen' ? hostSpi : map.allocateIrq(c.name);
      if (guestSpi === undefined)
        throw new KernelError('EINVAL', `IRQ ${i} of ${c.name} is not a GIC SPI: Xen maps IRQs 1:1`);
      const trigger = triggers[i] ?? (automasked ? 'level-high' : 'edge-rising');
      return { hostSpi, guestSpi, automasked, trigger };
    });
    c.view = {
      name: c.name,
      hostPath: hostDev?.path ?? '',
      compatible: hostDev?.compatible ?? [],
      regions,
      irqs,
      dmaCoherent: hostDev?.dmaCoherent ?? false,
      iommus: hostDev?.iommus.map((l) => ({ iommu: l.target, sid: l.args[0] ?? 0 })) ?? [],
    };
    return regions
      .map((r) => `0x${r.guestAddress.toString(16)}+0x${r.size.toString(16)}`)
      .concat(irqs.map((q) => `SPI ${q.guestSpi}`))
      .join(', ');
  },
  map_regions: (c, push) => {
    const device = c.device as VfioDeviceHandle;
    const out: string[] = [];
    for (const r of c.regions) {
      if ((r.flags & VFIO_REGION_INFO_FLAG_MMAP) === 0) {
        out.push(`region ${r.index}: trapped (no MMAP)`);
        continue;
      }
      const m: HostMapping = c.vm.process.mmapShared(device.fd, r.offset, r.size);
      push(() => c.vm.process.munmap(m));
      out.push(`region ${r.index}: mmap 0x${r.size.toString(16)}`);
    }
    return out.join(', ') || 'no regions';
  },
  wire_irqs: (c, push) => {
    const device = c.device as VfioDeviceHandle;
    const proc = c.vm.process;
    const out: string[] = [];
    for (const [i, irq] of c.irqs.entries()) {
      const guest = c.view?.irqs[i] as AssignedIrq;
      const trigger = proc.eventfd();
      push(() => proc.close(trigger));
      device.enableIrq(irq.index, [trigger]);
      push(() => device.disableIrq(irq.index));
      let unmask: number | undefined;
      if (guest.automasked) {
        unmask = proc.eventfd();
        const u = unmask;
        push(() => proc.close(u));
        device.setIrqs({ action: 'unmask', index: irq.index, eventfds: [u] });
        push(() => device.setIrqs({ action: 'unmask', index: irq.index, eventfds: [null] }));
      }
      const kvm = c.vm.kvm;
      if (kvm !== undefined) {
        const arg = (flags: number) => {
          const b = new Uint8Array(32);
          const v = new DataView(b.buffer);
          for (const [k, x] of [trigger, guest.guestSpi, flags, unmask ?? 0].entries())
            v.setUint32(4 * k, x >>> 0, true);
          return b;
        };
        proc.ioctl(kvm.vm, K.KVM_IRQFD, arg(unmask === undefined ? 0 : K.KVM_IRQFD_FLAG_RESAMPLE));
        push(() => {
          proc.ioctl(kvm.vm, K.KVM_IRQFD, arg(K.KVM_IRQFD_FLAG_DEASSIGN));
        });
        out.push(`IRQ ${i} → irqfd GSI ${guest.guestSpi}${unmask === undefined ? '' : ' + resamplefd'}`);
      } else {
        out.push(
          `IRQ ${i} → eventfd ${trigger}${unmask === undefined ? '' : ` + unmask eventfd ${unmask}`} (no KVM)`,
        );
      }
    }
    return out.join(', ') || 'no IRQs';
  },
  guest_node: (c) => {
    const view = c.view as AssignedDeviceView;
    const base = c.options.baseTree ?? minimalBase();
    const tree =
      c.vm.vmm === 'xen'
        ? xenPartialDt([view])
        : c.vm.vmm === 'crosvm'
          ? crosvmGuestTree(
              base,
              vmDtboTemplate(c.host.tree, [{ label: 'assigned', device: hostDtDevice(c) }]),
              [{ label: 'assigned', view, ...(view.iommus.length > 0 ? { pvIommuId: 0 } : {}) }],
            )
          : qemuPlatformBusTree(base, c.vm.map, [view], { hostTree: c.host.tree });
    c.guest = { ...renderTree(tree) };
    return `${c.guest.dtb.length}-byte guest tree`;
  },
} satisfies Record<string, StepImpl>;

/** Every step's implementation, both back ends (a back end runs those of {@link assignStepsOf}). */
export const STEP_IMPLS: Readonly<Record<AssignStep, StepImpl>> = {
  ...LEGACY_STEP_IMPLS,
  ...IOMMUFD_STEP_IMPLS,
};

function hostDtDevice(c: Ctx) {
  const d =
    c.host.dtDevices.find((x) => x.name === c.name) ??
    populate(c.host.tree).devices.find((x) => x.name === c.name);
  if (d === undefined) throw new KernelError('ENODEV', `${c.name} has no device-tree node`);
  return d;
}

/** A QEMU-virt-like base: 2/2 cells, a GICv3 with phandle 1 as root interrupt-parent. */
function minimalBase(): DeviceTree {
  const enc = (cells: number[]) => {
    const b = new Uint8Array(cells.length * 4);
    for (const [i, x] of cells.entries()) new DataView(b.buffer).setUint32(i * 4, x, false);
    return b;
  };
  return {
    header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
    reserveMap: [],
    root: {
      name: '',
      properties: [
        { name: 'interrupt-parent', value: enc([1]) },
        { name: '#size-cells', value: enc([2]) },
        { name: '#address-cells', value: enc([2]) },
        { name: 'compatible', value: new TextEncoder().encode('linux,dummy-virt\0') },
      ],
      children: [
        {
          name: 'intc@8000000',
          properties: [
            { name: 'phandle', value: enc([1]) },
            { name: 'reg', value: enc([0, 0x0800_0000, 0, 0x10000, 0, 0x080a_0000, 0, 0xf60000]) },
            { name: 'interrupt-controller', value: new Uint8Array(0) },
            { name: '#interrupt-cells', value: enc([3]) },
            { name: 'compatible', value: new TextEncoder().encode('arm,gic-v3\0') },
          ],
          children: [],
        },
      ],
    },
  };
}

async function undoAll(undo: readonly Undo[]): Promise<string[]> {
  const failures: string[] = [];
  for (const u of [...undo].reverse()) {
    try {
      await u.run();
    } catch (e) {
      failures.push(`${u.step}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failures;
}

/** Runs `impls` in the order of the back end's steps (exported for the failure-injection tests). */
export async function runAssignSteps(
  host: Host,
  vm: GuestVm,
  deviceName: string,
  options: AssignOptions,
  impls: Readonly<Record<AssignStep, StepImpl>>,
): Promise<Assignment> {
  const backend: AssignBackend = options.backend === 'iommufd' ? 'iommufd' : 'legacy';
  const ctx: Ctx = {
    host,
    vm,
    name: deviceName,
    options,
    backend,
    iommufd: {},
    bus: 'platform',
    driver: '',
    hostDriver: null,
    regions: [],
    irqs: [],
    undo: [],
    records: [],
  };
  for (const step of assignStepsOf(backend)) {
    try {
      options.beforeStep?.(step);
      const detail = await impls[step](ctx, (run) => ctx.undo.push({ step, run }));
      ctx.records.push({ step, detail });
    } catch (e) {
      const failures = await undoAll(ctx.undo);
      throw new AssignError(step, deviceName, e, failures);
    }
  }
  return {
    device: deviceName,
    bus: ctx.bus,
    driver: ctx.driver,
    hostDriver: ctx.hostDriver,
    backend,
    group: ctx.groupName ?? '',
    iommuType: ctx.iommuType as 'type1v2' | 'noiommu' | 'iommufd',
    ...(backend === 'iommufd'
      ? {
          iommufd: {
            cdev: ctx.iommufd.cdev as string,
            devid: ctx.iommufd.devid as number,
            ioasId: ctx.iommufd.ioasId as number,
          },
        }
      : {}),
    regions: ctx.regions,
    irqs: ctx.irqs,
    view: ctx.view as AssignedDeviceView,
    guest: ctx.guest as { dtb: Uint8Array; dts: string },
    steps: ctx.records,
    undo: ctx.undo,
    released: false,
  };
}

/**
 * Assigns `deviceName` of `host` to `vm` (see the file comment for the steps). Resolves to the
 * {@link Assignment}; rejects with {@link AssignError} (step + errno) after undoing everything.
 */
export async function assignDevice(
  host: Host,
  vm: GuestVm,
  deviceName: string,
  options: AssignOptions = {},
): Promise<Assignment> {
  rejectUnknownOptions(options, ['driver', 'backend', 'baseTree', 'beforeStep'], 'assignDevice');
  if (
    options.backend !== undefined &&
    options.backend !== 'legacy' &&
    options.backend !== 'container' &&
    options.backend !== 'iommufd'
  )
    throw new KernelError(
      'EINVAL',
      `assignDevice: backend must be 'legacy' or 'iommufd', not ${String(options.backend)}`,
    );
  if (vm.host !== host) throw new KernelError('EINVAL', 'assignDevice: the VM runs on another host');
  return runAssignSteps(host, vm, deviceName, options, STEP_IMPLS);
}

/**
 * Hands an assigned device back: irqfds deassigned, IRQs disabled, eventfds closed, regions
 * unmapped, DMA unmapped, the device fd closed (the reset runs here), the group and container
 * closed, the guest map entries freed, vfio unbound and the host driver bound again.
 * `EINVAL` if already released; an undo that fails is reported as `EIO` after the rest ran.
 */
export async function releaseDevice(assignment: Assignment): Promise<void> {
  if (assignment.released)
    throw new KernelError('EINVAL', `releaseDevice: ${assignment.device} is already released`);
  assignment.released = true;
  const failures = await undoAll(assignment.undo);
  if (failures.length > 0)
    throw new KernelError('EIO', `releaseDevice ${assignment.device}: ${failures.join('; ')}`);
}
