import { KernelError, type MmioDevice } from '@vfiokit/core';
import type { Device, DriverSpec } from '@vfiokit/platform-bus';
import { VIRTIO_MMIO_MAGIC } from '../devices/virtio-mmio.js';
import type { HostIrqLines } from '../irq/host-irq.js';

/** What the host drivers need: the register model behind a device's first region, and the IRQ chip. */
export interface HostDriverEnvironment {
  readonly mmio: (device: Device) => MmioDevice | undefined;
  readonly irqChip: HostIrqLines;
  /**
   * Called when an RTC with alarms registers (rtc_register_device → the rtc class interface →
   * kernel/time/alarmtimer.c alarmtimer_rtc_add_device), so the host can add the
   * `alarmtimer` platform device the first time.
   */
  readonly rtcRegistered?: (device: Device) => void;
  /** rtc_register_device() / its devres release: the RTC class device under the device. */
  readonly rtcAdded?: (device: Device) => void;
  readonly rtcRemoved?: (device: Device) => void;
}

/** A host driver and the bus it registers on, in registration (initcall) order. */
export interface HostDriver {
  readonly bus: 'platform' | 'amba';
  readonly spec: DriverSpec;
}

/**
 * The platform and AMBA drivers built into the oracle's Linux 6.12 (`allnoconfig` +
 * oracle/kernel.fragment, modules off), in initcall order: the PL011 console (arch_initcall,
 * with its SBSA sibling), then at device_initcall simple-pm-bus, the generic PCI host, the
 * PL031 RTC, the PL061 GPIO, the common clock framework's three OF clock drivers (the SMMUv3
 * driver is `@vfiokit/smmu`'s, registered by the host's IOMMU layer), and first of all the timekeeping `alarmtimer` (the list is what the oracle kernel's build
 * compiles: every `struct platform_driver` / `struct amba_driver` in its objects). That kernel has no
 * CONFIG_VIRTIO_MMIO and no fw-cfg driver, so the virtio-mmio slots and fw-cfg stay unbound
 * ({@link virtioMmioDriver} is there for hosts whose kernel has it); gpio-keys and the PMU
 * have no driver either. With CONFIG_MODULES off there is no `amba-proxy` stub.
 */
export function hostDrivers(env: HostDriverEnvironment): readonly HostDriver[] {
  return [
    // drivers/tty/serial/amba-pl011.c: both suppress_bind_attrs when built in.
    {
      bus: 'platform',
      spec: { name: 'sbsa-uart', ofMatchTable: ['arm,sbsa-uart'], suppressBindAttrs: true, probe: () => {} },
    },
    {
      bus: 'amba',
      spec: {
        name: 'uart-pl011',
        ambaIdTable: [
          { id: 0x00041011, mask: 0x000fffff },
          { id: 0x00380802, mask: 0x00ffffff },
        ],
        suppressBindAttrs: true,
        probe: () => {},
        remove: () => {},
      },
    },
    // drivers/pci/controller/pci-host-generic.c (gen_pci_of_match, the ECAM entries).
    {
      bus: 'platform',
      spec: {
        name: 'pci-host-generic',
        ofMatchTable: [
          'pci-host-cam-generic',
          'pci-host-ecam-generic',
          'marvell,armada8k-pcie-ecam',
          'socionext,synquacer-pcie-ecam',
          'snps,dw-pcie-ecam',
        ],
        probe: () => {},
        remove: () => {},
      },
    },
    // kernel/time/alarmtimer.c (kernel/ links before drivers/, so its device_initcall runs
    // first): its device, alarmtimer.0.auto, appears when the first RTC with alarms registers.
    { bus: 'platform', spec: { name: 'alarmtimer', probe: () => {}, remove: () => {} } },
    { bus: 'platform', spec: simplePmBusDriver() },
    { bus: 'amba', spec: rtcPl031Driver(env) },
    // drivers/gpio/gpio-pl061.c: no .remove (devm does the work). Its gpiochip's irqchip
    // takes the parent interrupt as a chained handler (gpiochip_add_irqchip).
    {
      bus: 'amba',
      spec: {
        name: 'pl061_gpio',
        ambaIdTable: [{ id: 0x00041061, mask: 0x000fffff }],
        probe: (device) => {
          env.mmio(device)?.write(0x410, 1, 0); // writeb(0, GPIOIE): disable irqs
          const irq = device.irqs[0];
          if (irq !== undefined && irq !== 0) env.irqChip.setChainedHandler(irq);
        },
      },
    },
    // drivers/clk/clk-fixed-rate.c, clk-fixed-factor.c, clk-gpio.c (CONFIG_COMMON_CLK): for
    // clock nodes of_clk_init() did not already set up; QEMU virt's apb-pclk is one it did.
    {
      bus: 'platform',
      spec: { name: 'of_fixed_clk', ofMatchTable: ['fixed-clock'], probe: () => {}, remove: () => {} },
    },
    {
      bus: 'platform',
      spec: {
        name: 'of_fixed_factor_clk',
        ofMatchTable: ['fixed-factor-clock'],
        probe: () => {},
        remove: () => {},
      },
    },
    {
      bus: 'platform',
      spec: {
        name: 'gpio-clk',
        ofMatchTable: ['gpio-mux-clock', 'gpio-gate-clock'],
        probe: () => {},
        remove: () => {},
      },
    },
  ];
}

const ONLY_BUS = ['simple-bus', 'simple-mfd', 'isa', 'arm,amba-bus'];

/**
 * drivers/bus/simple-pm-bus.c: matches `simple-pm-bus` and, marked ONLY_BUS, `simple-bus`,
 * `simple-mfd`, `isa`, `arm,amba-bus`; for an ONLY_BUS match the probe binds only when that
 * compatible is the node's first (QEMU's `qemu,platform`, `simple-bus` platform bus is left
 * with `ENODEV`); with `driver_override` set it binds without doing anything.
 */
export function simplePmBusDriver(): DriverSpec {
  return {
    name: 'simple-pm-bus',
    ofMatchTable: ['simple-pm-bus', ...ONLY_BUS],
    probe: (device, match) => {
      if (device.driverOverride !== null) return;
      const compatible = match.compatible;
      if (compatible !== undefined && ONLY_BUS.includes(compatible) && device.compatible[0] !== compatible) {
        throw new KernelError(
          'ENODEV',
          `${device.name}: not only a bus (${compatible} is not its first compatible)`,
        );
      }
    },
    remove: () => {},
  };
}

/**
 * drivers/virtio/virtio_mmio.c `virtio_mmio_probe`: a wrong magic is `ENODEV`, a version
 * other than 1 or 2 `ENXIO`, and device id 0 — QEMU's empty transport slots — `ENODEV`
 * ("a (dummy) placeholder with no function"), so the slots stay unbound.
 */
export function virtioMmioDriver(env: HostDriverEnvironment): DriverSpec {
  return {
    name: 'virtio-mmio',
    ofMatchTable: ['virtio,mmio'],
    probe: (device) => {
      const regs = env.mmio(device);
      if (regs === undefined) throw new KernelError('ENODEV', `${device.name}: no registers`);
      if (regs.read(0x000, 4) !== VIRTIO_MMIO_MAGIC)
        throw new KernelError('ENODEV', `${device.name}: Wrong magic value`);
      const version = regs.read(0x004, 4);
      if (version < 1 || version > 2)
        throw new KernelError('ENXIO', `${device.name}: Version ${version} not supported!`);
      if (regs.read(0x008, 4) === 0) throw new KernelError('ENODEV', `${device.name}: placeholder slot`);
    },
    remove: () => {},
  };
}

/**
 * drivers/rtc/rtc-pl031.c `pl031_probe`: sets CR.EN and requests the alarm interrupt
 * (`request_irq(adev->irq[0], …, "rtc-pl031")`); remove frees it.
 */
function rtcPl031Driver(env: HostDriverEnvironment): DriverSpec {
  return {
    name: 'rtc-pl031',
    ambaIdTable: [
      { id: 0x00041031, mask: 0x000fffff },
      { id: 0x00180031, mask: 0x00ffffff },
      { id: 0x00280031, mask: 0x00ffffff },
    ],
    probe: (device) => {
      const regs = env.mmio(device);
      if (regs !== undefined) regs.write(0x0c, 4, regs.read(0x0c, 4) | 1);
      const irq = device.irqs[0];
      env.rtcAdded?.(device);
      // Without an interrupt the alarm ops are dropped, so the RTC has no alarm feature.
      if (irq !== undefined && irq !== 0) env.rtcRegistered?.(device);
      if (irq !== undefined && irq !== 0) {
        env.irqChip.requestIrq(irq, () => handled(regs), { name: 'rtc-pl031', noAutoEn: false });
      }
    },
    remove: (device) => {
      const irq = device.irqs[0];
      if (irq !== undefined && irq !== 0) env.irqChip.freeIrq(irq);
      env.rtcRemoved?.(device);
    },
  };
}

// pl031_interrupt(): a masked alarm is acknowledged (ICR) and reported with rtc_update_irq();
// the RTC core's timer work then finds no alarm timer left to arm and disables the alarm
// (rtc_timer_do_work → rtc_alarm_disable → pl031_alarm_irq_enable(dev, 0) clears IMSC.AI).
function handled(regs: MmioDevice | undefined): 'handled' | 'none' {
  if (regs === undefined || (regs.read(0x18, 4) & 1) === 0) return 'none';
  regs.write(0x1c, 4, 1);
  regs.write(0x10, 4, regs.read(0x10, 4) & ~1);
  return 'handled';
}
