import { thrownErrno } from '@vfiokit/core/testing';
import { VfioContainerHandle, type VfioDeviceHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { VFIO_DEVICE_FLAGS_AMBA, VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../host.js';
import { virtDtb } from '../test-support.js';
import { PL011_INT_TX, Pl011InterruptModel } from './pl011-interrupts.js';

// vfiokit's device-specific emulated drivers (NOT IN LINUX) on the QEMU virt host: loaded on
// request like out-of-tree modules, bound through driver_override + drivers_probe.
describe('host: loadEmulatedDriver (vfio-pl011, vfio-pl031, vfio-pl061; not in Linux)', () => {
  it('none is registered at boot (the host stays the oracle kernel); loading lists it on the AMBA bus', () => {
    const host = createHost(virtDtb());
    expect(host.fs.ls('/sys/bus/amba/drivers')).not.toContain('vfio-pl031');
    host.loadEmulatedDriver('vfio-pl031');
    expect(host.fs.ls('/sys/bus/amba/drivers')).toContain('vfio-pl031');
    expect(thrownErrno(() => host.loadEmulatedDriver('vfio-pl031'))).toBe('EEXIST');
    expect(thrownErrno(() => host.loadEmulatedDriver('vfio-pl330'))).toBe('ENOENT');
    expect(thrownErrno(() => host.loadEmulatedDriver('toString'))).toBe('ENOENT');
  });

  it('driver_override + drivers_probe hand the PL031 to vfio-pl031: group /dev/vfio/0 named vfio-noiommu, no taint', async () => {
    const host = createHost(virtDtb());
    host.loadEmulatedDriver('vfio-pl031');
    await host.fs.run('echo vfio-pl031 > /sys/bus/amba/devices/9010000.pl031/driver_override');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers_probe');
    expect(host.device('9010000.pl031')?.driverName).toBe('vfio-pl031');
    expect(host.vfio.devNodes()).toContain('0');
    expect(host.vfio.devNodes()).not.toContain('noiommu-0');
    expect(host.fs.readlink('/sys/bus/amba/devices/9010000.pl031/iommu_group')).toMatch(/iommu_groups\/0$/);
    expect(host.iommuGroupName(0)).toBe('vfio-noiommu');
    expect(host.tainted).toBe(0);
    expect(host.vfioDevOf('9010000.pl031')).toBe('vfio0');
  });

  it('vfio-pl061 takes the PL061; vfio-pl011 refuses a device it does not know (ENODEV)', async () => {
    const host = createHost(virtDtb());
    host.loadEmulatedDriver('vfio-pl011');
    host.loadEmulatedDriver('vfio-pl061');
    host.fs.write('/sys/bus/amba/devices/9030000.pl061/driver_override', 'vfio-pl011\n');
    await host.fs.run('echo 9030000.pl061 > /sys/bus/amba/drivers/pl061_gpio/unbind');
    await host.fs.run('echo 9030000.pl061 > /sys/bus/amba/drivers_probe');
    expect(host.device('9030000.pl061')?.driverName).toBeNull();
    expect(host.device('9030000.pl061')?.lastProbeError?.code).toBe('ENODEV');
    host.fs.write('/sys/bus/amba/devices/9030000.pl061/driver_override', 'vfio-pl061\n');
    await host.fs.run('echo 9030000.pl061 > /sys/bus/amba/drivers_probe');
    expect(host.device('9030000.pl061')?.driverName).toBe('vfio-pl061');
    expect(host.tainted).toBe(0);
  });
});

describe('host: vfiokit.emulated_generic=1 — vfio-platform/vfio-amba as the 2024 RFC would patch them (not in Linux)', () => {
  it('vfio-amba takes the PL031 into an emulated group without the no-IOMMU mode (policy: non-master)', async () => {
    const host = createHost(virtDtb(), { cmdline: 'vfiokit.emulated_generic=1' });
    await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers_probe');
    expect(host.device('9010000.pl031')?.driverName).toBe('vfio-amba');
    expect(host.vfio.groups.get('0')?.kind).toBe('emulated');
    expect(host.tainted).toBe(0);
  });

  it('vfio-platform refuses fw-cfg (a DMA master by the policy) with EINVAL and the policy’s reason', () => {
    const host = createHost(virtDtb(), {
      cmdline: 'vfiokit.emulated_generic=1 vfio_platform.reset_required=0',
    });
    host.fs.write('/sys/bus/platform/devices/9020000.fw-cfg/driver_override', 'vfio-platform\n');
    expect(
      thrownErrno(() => host.fs.write('/sys/bus/platform/drivers/vfio-platform/bind', '9020000.fw-cfg')),
    ).toBe('EINVAL');
    const reason = host.dmaPolicy.assess(host.device('9020000.fw-cfg')!).reason;
    expect(host.log).toContain(
      `vfio-platform 9020000.fw-cfg: no IOMMU group and DMA not ruled out (master): ${reason}`,
    );
    expect(host.tainted).toBe(0);
  });

  it('off by default: upstream vfio-amba refuses the PL031 without the no-IOMMU mode (EINVAL)', async () => {
    const host = createHost(virtDtb());
    await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers_probe');
    expect(host.device('9010000.pl031')?.driverName).toBeNull();
    expect(host.device('9010000.pl031')?.lastProbeError?.code).toBe('EINVAL');
  });
});

describe('Pl011InterruptModel: QEMU hw/char/pl011.c transmit interrupt', () => {
  it('UARTDR write sets INT_TX; UARTIMSC enables the line; UARTICR clears; RIS/MIS read the levels', () => {
    const levels: boolean[] = [];
    const uart = new Pl011InterruptModel({ irq: (level) => levels.push(level) });
    expect(uart.read(0x3c, 4)).toBe(0);
    uart.write(0x00, 4, 0x41);
    expect(uart.read(0x3c, 4)).toBe(PL011_INT_TX);
    expect(uart.read(0x40, 4)).toBe(0);
    expect(levels).toEqual([]);
    uart.write(0x38, 4, PL011_INT_TX);
    expect(uart.read(0x40, 4)).toBe(PL011_INT_TX);
    expect(levels).toEqual([true]);
    uart.write(0x44, 4, PL011_INT_TX);
    expect(uart.read(0x3c, 4)).toBe(0);
    expect(levels).toEqual([true, false]);
    // Still the PL011 model underneath: FR, CR reset value, PrimeCell ID.
    expect(uart.read(0x18, 4)).toBe(0x90);
    expect(uart.read(0x30, 4)).toBe(0x300);
    expect(uart.read(0xfe0, 4)).toBe(0x11);
  });
});

// The VMM side on a device handed to an emulated driver: its own group /dev/vfio/<id>, TYPE1v2.
async function assigned(host: Host, device: string, driver: string, hostDriver: string) {
  host.loadEmulatedDriver(driver);
  await host.fs.run(`echo ${driver} > /sys/bus/amba/devices/${device}/driver_override`);
  await host.fs.run(`echo ${device} > /sys/bus/amba/drivers/${hostDriver}/unbind`);
  await host.fs.run(`echo ${device} > /sys/bus/amba/drivers_probe`);
  const proc = host.spawn();
  const container = VfioContainerHandle.open(proc);
  const group = VfioGroupHandle.open(proc, `${host.device(device)?.iommuGroup}`);
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  return { proc, fd: group.getDevice(device) };
}

const read32 = (fd: VfioDeviceHandle, offset: number): number => {
  const buffer = new Uint8Array(4);
  fd.read(fd.regionInfo(0), offset, buffer);
  return new DataView(buffer.buffer).getUint32(0, true);
};
const write32 = (fd: VfioDeviceHandle, offset: number, value: number): void => {
  fd.write(fd.regionInfo(0), offset, new Uint8Array(new Uint32Array([value >>> 0]).buffer));
};

describe('the drivers against their register models (QEMU virt, through the device fd)', () => {
  it('vfio-pl031: RTCDR counts, the alarm (RTCMR, RTCIMSC) raises RTCINTR through the eventfd, RTCICR clears it', async () => {
    const host = createHost(virtDtb());
    const { proc, fd } = await assigned(host, '9010000.pl031', 'vfio-pl031', 'rtc-pl031');
    expect(fd.info()).toEqual({ flags: VFIO_DEVICE_FLAGS_AMBA, numRegions: 1, numIrqs: 1 });
    expect(read32(fd, 0xfe0)).toBe(0x31);
    const trigger = proc.eventfd();
    fd.enableIrq(0, [trigger]);
    write32(fd, 0x10, 1); // RTCIMSC
    write32(fd, 0x04, read32(fd, 0x00) + 1); // RTCMR = RTCDR + 1
    host.advanceTime(2000);
    expect(proc.eventfdOf(trigger).read()).toBe(1n);
    expect(read32(fd, 0x14)).toBe(1); // RTCRIS
    write32(fd, 0x1c, 1); // RTCICR
    expect(read32(fd, 0x14)).toBe(0);
    expect(host.tainted).toBe(0);
  });

  it('vfio-pl061: direction and the masked data window; its IRQ stays IRQ_NOREQUEST after gpio-pl061 (oracle pl061-irq-norequest): SET_IRQS EINVAL', async () => {
    const host = createHost(virtDtb());
    const { proc, fd } = await assigned(host, '9030000.pl061', 'vfio-pl061', 'pl061_gpio');
    expect(read32(fd, 0xfe0)).toBe(0x61);
    write32(fd, 0x400, 0x0f); // GPIODIR: pins 0–3 out
    write32(fd, 0x3fc, 0xff); // GPIODATA through the all-pins mask: only outputs take it
    expect(read32(fd, 0x3fc)).toBe(0x0f);
    expect(read32(fd, 0x004)).toBe(0x01); // mask of pin 0 alone
    write32(fd, 0x404, 0x80); // GPIOIS: pin 7 level-sensitive
    write32(fd, 0x40c, 0x00); // GPIOIEV: low level
    write32(fd, 0x410, 0x80); // GPIOIE
    expect(read32(fd, 0x418) & 0x80).toBe(0x80); // GPIOMIS: the model raises GPIOINTR
    // gpio-pl061 made the line a chained handler's (irq_set_chained_handler_and_data): the
    // kernel never lets it be requested again, so vfio_platform_set_irq_trigger fails.
    expect(thrownErrno(() => fd.enableIrq(0, [proc.eventfd()]))).toBe('EINVAL');
    expect(host.tainted).toBe(0);
  });
});
