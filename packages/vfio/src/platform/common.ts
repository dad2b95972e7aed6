import { KernelError, type MmioDevice, type ResetTarget } from '@vfiokit/core';
import type { DeviceReset, ResetRegistry } from '@vfiokit/reset-modules';
import { vfioSetIrqsValidateAndPrepare } from '../device/set-irqs-validate.js';
import type { VfioDeviceOps } from '../device/vfio-device.js';
import type { HostIrqChip } from '../irq/host-irq-chip.js';
import { VFIO_DEVICE_FLAGS_RESET } from '../uapi/flags.js';
import {
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
} from '../uapi/ioctls.js';
import { vfioPlatformIndexToOffset } from '../uapi/platform-offsets.js';
import { vfioDeviceInfo, vfioRegionInfo } from '../uapi/structs-device.js';
import { vfioIrqInfo, vfioIrqSet } from '../uapi/structs-irq.js';
import { pointerArg } from '../user/args.js';
import type { IoctlArg, MmapRequest, MmapResult } from '../user/file.js';
import type { Task } from '../user/task.js';
import type { VfioPlatformBinder } from './binder.js';
import { PlatformIrqs } from './irq.js';
import { type PlatformRegion, regionMmap, regionRead, regionsInit, regionWrite } from './regions.js';

/** What the common core needs from the host. */
export interface VfioPlatformEnvironment {
  /** The reset registry (`@vfiokit/reset-modules`): lookup by compatible, loader, reset_required. */
  readonly resets: ResetRegistry;
  readonly irqChip: HostIrqChip;
  /** Lets model time pass for a reset module's `udelay`/`usleep_range`. */
  readonly delay?: (microseconds: number) => void;
  /** Kernel log lines (warnings such as a failed reset at close). */
  readonly log?: (line: string) => void;
}

/** A lifecycle event, for tests and tracing. */
export type VfioPlatformEvent = 'open' | 'close' | 'reset' | 'reset-failed';

/**
 * The common core of vfio-platform and vfio-amba (drivers/vfio/platform/vfio_platform_common.c
 * and vfio_platform_irq.c): reset lookup at init, regions and IRQs built at first open, the
 * reset at first open, last close and VFIO_DEVICE_RESET, the device ioctls, read/write at
 * `index << 40` and mmap. The bus adapters only fill a {@link VfioPlatformBinder}.
 */
export class VfioPlatformDevice implements VfioDeviceOps {
  readonly binder: VfioPlatformBinder;
  /** `vdev->compat`: the first compatible string. */
  readonly compat: string;
  /** `vdev->flags`; RESET is added (sticky) by the first GET_INFO when a reset exists. */
  flags: number;
  /** Events in order, for tests. */
  readonly events: VfioPlatformEvent[] = [];
  private readonly env: VfioPlatformEnvironment;
  private readonly reset: DeviceReset;
  private released = false;
  private regions: PlatformRegion[] = [];
  private readonly irqs: PlatformIrqs;

  /**
   * `vfio_platform_init_common`: the first `compatible` (`EINVAL` without one) and the reset
   * lookup through the registry; `ENOENT` when none is found and `reset_required` is set.
   */
  constructor(binder: VfioPlatformBinder, env: VfioPlatformEnvironment) {
    this.binder = binder;
    this.env = env;
    this.flags = binder.flags;
    this.reset = env.resets.getReset(
      { name: binder.name, compatible: binder.compatible },
      { resetRequired: binder.resetRequired },
    );
    this.compat = binder.compatible[0] ?? '';
    this.irqs = new PlatformIrqs(env.irqChip, binder.name);
  }

  /** `vfio_platform_release_common`: drops the reset module reference. */
  release(): void {
    if (this.released) throw new KernelError('EINVAL', `${this.binder.devName} was released already`);
    this.released = true;
    this.reset.release();
  }

  /** Whether a reset exists (`vfio_platform_has_reset`). */
  get hasReset(): boolean {
    return this.reset.hasReset;
  }

  /** Which provider resets the device, and whether Linux would (from reset-modules). */
  get resetReport(): DeviceReset['report'] {
    return this.reset.report;
  }

  /** Regions as built by the last first-open (empty while closed). */
  get currentRegions(): readonly PlatformRegion[] {
    return this.regions;
  }

  /** The IRQ state (for wiring and tests). */
  get irqState(): PlatformIrqs {
    return this.irqs;
  }

  match(name: string): boolean {
    return name === this.binder.devName;
  }

  /**
   * `vfio_platform_open_device`: regions, IRQs, then the reset; a failed reset fails the open
   * when `reset_required` ("reset driver is required and reset call failed in open"), unwinding.
   */
  openDevice(): void {
    this.regions = regionsInit((i) => this.binder.getResource(i));
    try {
      this.irqs.init((i) => this.binder.getIrq(i));
      const outcome = this.reset.callOnOpen(this.resetTarget());
      this.events.push(outcome.error === null ? 'reset' : 'reset-failed');
    } catch (error) {
      this.events.push('reset-failed');
      this.irqs.cleanup();
      this.regions = [];
      throw error;
    }
    this.events.push('open');
  }

  /** `vfio_platform_close_device`: reset (a failure only warns), IRQ cleanup, regions cleanup. */
  closeDevice(): void {
    const outcome = this.reset.callOnClose(this.resetTarget());
    this.events.push(outcome.error === null ? 'reset' : 'reset-failed');
    if (outcome.warning !== null) this.env.log?.(outcome.warning);
    this.irqs.cleanup();
    this.regions = [];
    this.events.push('close');
  }

  ioctl(current: Task, request: number, arg: IoctlArg | undefined): number {
    switch (request) {
      case VFIO_DEVICE_GET_INFO:
        this.getInfo(pointerArg(arg, 'VFIO_DEVICE_GET_INFO'));
        return 0;
      case VFIO_DEVICE_GET_REGION_INFO:
        this.getRegionInfo(pointerArg(arg, 'VFIO_DEVICE_GET_REGION_INFO'));
        return 0;
      case VFIO_DEVICE_GET_IRQ_INFO:
        this.getIrqInfo(pointerArg(arg, 'VFIO_DEVICE_GET_IRQ_INFO'));
        return 0;
      case VFIO_DEVICE_SET_IRQS:
        this.setIrqs(current, pointerArg(arg, 'VFIO_DEVICE_SET_IRQS'));
        return 0;
      case VFIO_DEVICE_RESET:
        this.callReset();
        return 0;
      default:
        throw new KernelError('ENOTTY', `vfio-platform: unknown ioctl 0x${request.toString(16)}`);
    }
  }

  read(_current: Task, buffer: Uint8Array, offset: number): number {
    return regionRead(this.regions, buffer, offset);
  }

  write(_current: Task, data: Uint8Array, offset: number): number {
    return regionWrite(this.regions, data, offset);
  }

  mmap(_current: Task, request: MmapRequest): MmapResult {
    return regionMmap(this.regions, request);
  }

  /** `vfio_platform_call_reset` (VFIO_DEVICE_RESET): `EINVAL` "no reset function found!"; the module's error otherwise. */
  callReset(): void {
    try {
      this.reset.call(this.resetTarget());
      this.events.push('reset');
    } catch (error) {
      this.events.push('reset-failed');
      throw error;
    }
  }

  // Reset modules ioremap the regions they touch (calxedaxgmac: "if (!reg->ioaddr) ioremap");
  // each region is handed over as a view that maps on first access (ENOMEM when it cannot).
  private resetTarget(): ResetTarget {
    const regions: MmioDevice[] = this.regions.map((region, i) => {
      const map = (): MmioDevice => {
        if (region.ioaddr === undefined) {
          if (region.model === undefined) throw new KernelError('ENOMEM', `ioremap of region ${i} failed`);
          region.ioaddr = region.model;
        }
        return region.ioaddr;
      };
      return {
        name: region.model?.name ?? `region${i}`,
        size: region.size,
        read: (offset, size) => map().read(offset, size),
        write: (offset, size, value) => map().write(offset, size, value),
      };
    });
    return {
      name: this.binder.devName,
      compatible: this.binder.compatible,
      regions,
      delay: (us) => this.env.delay?.(us),
    };
  }

  // VFIO_DEVICE_GET_INFO: minsz = offsetofend(num_irqs) = 16; no capability chain.
  private getInfo(bytes: Uint8Array): void {
    const minsz = vfioDeviceInfo.offsetofend('num_irqs');
    const info = vfioDeviceInfo.decodePrefix(bytes, minsz);
    if (info.argsz < minsz)
      throw new KernelError('EINVAL', `vfio_device_info argsz ${info.argsz} < ${minsz}`);
    if (this.hasReset) this.flags |= VFIO_DEVICE_FLAGS_RESET;
    vfioDeviceInfo.encodePrefix(
      { ...info, flags: this.flags, num_regions: this.regions.length, num_irqs: this.irqs.count },
      minsz,
      bytes,
    );
  }

  // VFIO_DEVICE_GET_REGION_INFO: minsz = offsetofend(offset) = 32.
  private getRegionInfo(bytes: Uint8Array): void {
    const minsz = vfioRegionInfo.offsetofend('offset');
    const info = vfioRegionInfo.decodePrefix(bytes, minsz);
    if (info.argsz < minsz)
      throw new KernelError('EINVAL', `vfio_region_info argsz ${info.argsz} < ${minsz}`);
    const region = this.regions[info.index];
    if (region === undefined)
      throw new KernelError('EINVAL', `region index ${info.index} ≥ ${this.regions.length}`);
    vfioRegionInfo.encodePrefix(
      { ...info, offset: vfioPlatformIndexToOffset(info.index), size: region.size, flags: region.flags },
      minsz,
      bytes,
    );
  }

  // VFIO_DEVICE_GET_IRQ_INFO: minsz = offsetofend(count) = 16.
  private getIrqInfo(bytes: Uint8Array): void {
    const minsz = vfioIrqInfo.offsetofend('count');
    const info = vfioIrqInfo.decodePrefix(bytes, minsz);
    if (info.argsz < minsz) throw new KernelError('EINVAL', `vfio_irq_info argsz ${info.argsz} < ${minsz}`);
    if (info.index >= this.irqs.count)
      throw new KernelError('EINVAL', `IRQ index ${info.index} ≥ ${this.irqs.count}`);
    const irq = this.irqs.irq(info.index);
    vfioIrqInfo.encodePrefix({ ...info, flags: irq.flags, count: irq.count }, minsz, bytes);
  }

  // VFIO_DEVICE_SET_IRQS: header, validation (num_irqs passed as count and max index, as the
  // kernel does), payload copy (EFAULT when short), then vfio_platform_set_irqs_ioctl.
  private setIrqs(current: Task, bytes: Uint8Array): void {
    const minsz = vfioIrqSet.offsetofend('count');
    const hdr = vfioIrqSet.decodePrefix(bytes, minsz);
    const dataSize = vfioSetIrqsValidateAndPrepare(hdr, this.irqs.count, this.irqs.count);
    if (bytes.length < minsz + dataSize)
      throw new KernelError('EFAULT', 'SET_IRQS payload is past the buffer');
    const data = bytes.slice(minsz, minsz + dataSize);
    this.irqs.setIrqs(current, {
      flags: hdr.flags,
      index: hdr.index,
      start: hdr.start,
      count: hdr.count,
      data,
    });
  }
}
