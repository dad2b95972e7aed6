import { KernelError, physAddr, type Scheduler } from '@vfiokit/core';
import { type Device, DriverCore } from '@vfiokit/platform-bus';
import { ResetRegistry } from '@vfiokit/reset-modules';
import { VfioContainerHandle } from '../api/container-handle.js';
import type { VfioDeviceHandle } from '../api/device-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { SimpleIrqChip } from '../irq/simple-irq-chip.js';
import type { DmaCapabilityPolicy } from '../platform/dma-policy.js';
import { vfioPlatformDriver } from '../platform/vfio-platform.js';
import { RegisterFile } from '../testing/register-file.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

/** IRQ 40 is level-high, 41 rising-edge. */
export const LEVEL_IRQ = 40;
export const EDGE_IRQ = 41;
export const DEVICE = '1c000000.dev';

/** Options of {@link platformFixture}. */
export interface PlatformFixtureOptions {
  readonly resetRequired?: boolean;
  /** Register a reset module for `test,dev` (default true). */
  readonly withReset?: boolean;
  /**
   * Make the module's reset fail with `ETIMEDOUT` (as bcmflexrm's does when a ring does not
   * flush): always, or only after the first (open) reset succeeded.
   */
  readonly resetFails?: boolean | 'after-open';
  /** Put the device behind no IOMMU. */
  readonly noIommu?: boolean;
  readonly dmaPolicy?: DmaCapabilityPolicy;
  readonly enableUnsafeNoiommuMode?: boolean;
  /** Where IRQ deliveries run (default immediately). */
  readonly scheduler?: Scheduler;
  /** Lines already taken by another driver before open (request_irq then fails EBUSY). */
  readonly busyIrqs?: readonly number[];
}

/** What {@link platformFixture} builds. */
export interface PlatformFixture {
  readonly core: DriverCore;
  readonly vfio: Vfio;
  readonly iommuGroup: ReturnType<typeof testIommuGroup>;
  readonly regs: RegisterFile;
  readonly irqChip: SimpleIrqChip;
  readonly resets: ResetRegistry;
  readonly resetLog: string[];
  readonly log: string[];
  readonly device: Device;
  readonly process: UserProcess;
}

/** {@link PlatformFixture} with the VMM side opened. */
export interface OpenedPlatformFixture extends PlatformFixture {
  readonly container: VfioContainerHandle;
  readonly group: VfioGroupHandle;
  readonly handle: VfioDeviceHandle;
}

/**
 * A host with the driver core, a vfio-platform driver and one device (`1c000000.dev`,
 * compatible `test,dev`, a 4K region with a recording register file and an unaligned 0x100
 * region, IRQs 40 level and 41 edge, IOMMU group 5 with a second device `1c100000.other`).
 */
export function platformFixture(options: PlatformFixtureOptions = {}): PlatformFixture {
  const core = new DriverCore();
  const ownership = core.iommuOwnership;
  if (ownership === undefined) throw new RangeError('driver core without ownership book');
  const iommuGroup = testIommuGroup({
    id: 5,
    devices: [{ name: DEVICE }, { name: '1c100000.other' }],
    ownership,
  });
  const log: string[] = [];
  const vfio = new Vfio({
    allowUnsafeInterrupts: true,
    enableUnsafeNoiommuMode: options.enableUnsafeNoiommuMode ?? false,
    log: (line) => log.push(line),
  });
  const regs = new RegisterFile(0x1000);
  const irqChip = new SimpleIrqChip(
    { [LEVEL_IRQ]: 'level-high', [EDGE_IRQ]: 'edge-rising' },
    options.scheduler,
  );
  for (const irq of options.busyIrqs ?? [])
    irqChip.requestIrq(irq, () => 'handled', { name: 'other', noAutoEn: false });
  const resets = new ResetRegistry();
  const resetLog: string[] = [];
  if (options.withReset ?? true) {
    resets.register({
      compatible: 'test,dev',
      owner: 'test-reset',
      reset: (target) => {
        const fails =
          options.resetFails === true || (options.resetFails === 'after-open' && resetLog.length > 0);
        if (fails) throw new KernelError('ETIMEDOUT', `${target.name}: reset timed out`);
        resetLog.push(target.name);
        target.regions[0]?.write(0, 4, 0);
      },
    });
  }
  core.platform.registerDriver(
    vfioPlatformDriver({
      vfio,
      resets,
      irqChip,
      iommuGroupOf: (d: Device) => (d.iommuGroup === 5 ? iommuGroup : undefined),
      mmio: (_d, _r, i) => (i === 0 ? regs : undefined),
      ...(options.resetRequired === undefined ? {} : { resetRequired: options.resetRequired }),
      ...(options.dmaPolicy === undefined ? {} : { dmaPolicy: options.dmaPolicy }),
      log: (line) => log.push(line),
    }),
  );
  const device = core.platform.addDevice({
    name: DEVICE,
    bus: 'platform',
    compatible: ['test,dev', 'test,generic'],
    regions: [
      { start: physAddr(0x1c00_0000), size: 0x1000 },
      { start: physAddr(0x1c00_1010), size: 0x100 },
    ],
    irqs: [LEVEL_IRQ, EDGE_IRQ],
    ...(options.noIommu === true ? {} : { iommuGroup: 5 }),
    driverOverride: 'vfio-platform',
  });
  const process = new UserProcess({ vfio, rlimitMemlock: 2 ** 40 });
  return { core, vfio, iommuGroup, regs, irqChip, resets, resetLog, log, device, process };
}

/** The fixture plus a container, the group, TYPE1v2 and an open device fd. */
export function openedPlatformFixture(options: PlatformFixtureOptions = {}): OpenedPlatformFixture {
  const f = platformFixture(options);
  const container = VfioContainerHandle.open(f.process);
  const group = VfioGroupHandle.open(f.process, 5);
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  const handle: VfioDeviceHandle = group.getDevice(DEVICE);
  return { ...f, container, group, handle };
}
