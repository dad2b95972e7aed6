import { describe, expect, it } from 'vitest';
import { virtioMmioDriver } from './drivers/host-drivers.js';
import { createHost } from './host.js';
import { errnoOf, virtDtb } from './test-support.js';

const NOIOMMU = 'vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0';

describe('createHost on QEMU virt', () => {
  it('populates the AMBA cells and binds the host drivers of the oracle kernel', () => {
    const host = createHost(virtDtb());
    expect(host.fs.ls('/sys/bus/amba/devices')).toEqual(['9000000.pl011', '9010000.pl031', '9030000.pl061']);
    // No amba-proxy: amba_stub_drv_init() registers it only with CONFIG_MODULES.
    expect(host.fs.ls('/sys/bus/amba/drivers')).toEqual([
      'pl061_gpio',
      'rtc-pl031',
      'uart-pl011',
      'vfio-amba',
    ]);
    expect(host.device('9000000.pl011')?.driverName).toBe('uart-pl011');
    expect(host.device('9010000.pl031')?.driverName).toBe('rtc-pl031');
    expect(host.device('9030000.pl061')?.driverName).toBe('pl061_gpio');
    // PeriphIDs read from QEMU's ID registers at device add (amba_device_add).
    expect(host.fs.cat('/sys/bus/amba/devices/9010000.pl031/id')).toBe('00141031\n');
    expect(host.fs.cat('/sys/bus/amba/devices/9030000.pl061/id')).toBe('00041061\n');
  });

  it('creates the platform devices the kernel does, alarmtimer.0.auto once the PL031 RTC registers', async () => {
    const host = createHost(virtDtb());
    const devices = host.fs.ls('/sys/bus/platform/devices');
    expect(devices).toEqual(
      expect.arrayContaining([
        '0.flash',
        'alarmtimer.0.auto',
        'gpio-keys',
        'pmu',
        'psci',
        'timer',
        '9020000.fw-cfg',
      ]),
    );
    expect(host.device('alarmtimer.0.auto')?.driverName).toBe('alarmtimer');
    // Rebinding the RTC makes no second one (alarmtimer keeps its rtcdev).
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/bind');
    expect(host.fs.ls('/sys/bus/platform/devices').filter((d) => d.startsWith('alarmtimer'))).toEqual([
      'alarmtimer.0.auto',
    ]);
  });

  it('leaves virtio-mmio slots, fw-cfg and the QEMU platform bus unbound, as the oracle kernel does', () => {
    const host = createHost(virtDtb());
    expect(host.device('a000000.virtio_mmio')?.driverName).toBeNull();
    expect(host.device('9020000.fw-cfg')?.driverName).toBeNull();
    // simple-pm-bus matches "simple-bus" but it is not the node's first compatible: ENODEV.
    expect(host.device('platform-bus@c000000')?.driverName).toBeNull();
    expect(host.device('4010000000.pcie')?.driverName).toBe('pci-host-generic');
    expect(host.fs.ls('/sys/bus/platform/drivers')).toEqual([
      'alarmtimer',
      'arm-smmu-v3',
      'gpio-clk',
      'of_fixed_clk',
      'of_fixed_factor_clk',
      'pci-host-generic',
      'sbsa-uart',
      'simple-pm-bus',
      'vfio-platform',
    ]);
  });

  it('a kernel with virtio-mmio would leave the empty slots unbound too (device id 0 is ENODEV)', () => {
    const host = createHost(virtDtb());
    const driver = virtioMmioDriver({ mmio: (device) => host.model(device.name), irqChip: host.irqChip });
    void host.core.platform.registerDriver(driver);
    expect(host.device('a000000.virtio_mmio')?.driverName).toBeNull();
    expect(host.fs.ls('/sys/bus/platform/drivers/virtio-mmio')).not.toContain('a000000.virtio_mmio');
  });

  it('uart-pl011 is built in, so it has no bind/unbind files (suppress_bind_attrs)', () => {
    const host = createHost(virtDtb());
    expect(host.fs.ls('/sys/bus/amba/drivers/uart-pl011')).toContain('9000000.pl011');
    expect(host.fs.ls('/sys/bus/amba/drivers/uart-pl011')).not.toContain('unbind');
    expect(errnoOf(() => host.fs.write('/sys/bus/amba/drivers/uart-pl011/unbind', '9000000.pl011'))).toBe(
      'ENOENT',
    );
  });

  it('vfio-amba takes the PL031 in no-IOMMU mode: noiommu group, name, link, taint', async () => {
    const host = createHost(virtDtb(), { cmdline: NOIOMMU });
    expect(host.fs.cat('/proc/sys/kernel/tainted')).toBe('0\n');
    expect(host.fs.ls('/dev/vfio')).toEqual(['vfio']);
    await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers_probe');
    expect(host.fs.readlink('/sys/bus/amba/devices/9010000.pl031/driver')).toBe(
      '../../../bus/amba/drivers/vfio-amba',
    );
    const link = host.fs.readlink('/sys/bus/amba/devices/9010000.pl031/iommu_group');
    const group = link.split('/').at(-1) ?? '';
    expect(host.fs.cat(`/sys/kernel/iommu_groups/${group}/name`)).toBe('vfio-noiommu\n');
    expect(host.fs.ls('/dev/vfio')).toEqual([`noiommu-${group}`, 'vfio']);
    expect(host.fs.cat('/proc/sys/kernel/tainted')).toBe('64\n');
    // Back to the host driver: the no-IOMMU group goes with the vfio device.
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/unbind');
    expect(host.fs.exists('/sys/bus/amba/devices/9010000.pl031/iommu_group')).toBe(false);
    expect(host.fs.ls('/dev/vfio')).toEqual(['vfio']);
    await host.fs.run('echo > /sys/bus/amba/devices/9010000.pl031/driver_override');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/bind');
    expect(host.device('9010000.pl031')?.driverName).toBe('rtc-pl031');
    // The taint stays (add_taint is forever).
    expect(host.fs.cat('/proc/sys/kernel/tainted')).toBe('64\n');
  });

  it('vfio-platform refuses fw-cfg with ENOENT under reset_required=1 and binds it with reset_required=0', () => {
    const strict = createHost(virtDtb(), { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
    strict.fs.write('/sys/bus/platform/devices/9020000.fw-cfg/driver_override', 'vfio-platform\n');
    expect(
      errnoOf(() => strict.fs.write('/sys/bus/platform/drivers/vfio-platform/bind', '9020000.fw-cfg')),
    ).toBe('ENOENT');
    const relaxed = createHost(virtDtb(), { cmdline: NOIOMMU });
    relaxed.fs.write('/sys/bus/platform/devices/9020000.fw-cfg/driver_override', 'vfio-platform\n');
    expect(relaxed.fs.write('/sys/bus/platform/drivers/vfio-platform/bind', '9020000.fw-cfg')).toBe(14);
    expect(relaxed.device('9020000.fw-cfg')?.driverName).toBe('vfio-platform');
  });

  it('the PL061 line stays IRQ_NOREQUEST after pl061_gpio unbinds (its chained handler), so vfio cannot request it', async () => {
    const host = createHost(virtDtb());
    expect(host.irqChip.isNoRequest(39)).toBe(true);
    await host.fs.run('echo 9030000.pl061 > /sys/bus/amba/drivers/pl061_gpio/unbind');
    expect(errnoOf(() => host.irqChip.requestIrq(39, () => 'handled', { name: 'x', noAutoEn: true }))).toBe(
      'EINVAL',
    );
    // The PL031's line is an ordinary request_irq/free_irq user.
    expect(host.irqChip.isNoRequest(34)).toBe(false);
  });

  it('rtc-pl031 taking the RTC back acknowledges a pending alarm and disables it (RTC core)', async () => {
    const host = createHost(virtDtb(), { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    const rtc = host.model('9010000.pl031');
    rtc?.write(0x08, 4, 0x1000); // LR
    rtc?.write(0x04, 4, 0x1000); // MR: raw alarm at once
    rtc?.write(0x10, 4, 1); // IMSC
    expect(rtc?.read(0x18, 4)).toBe(1);
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/bind');
    expect([rtc?.read(0x10, 4), rtc?.read(0x14, 4)]).toEqual([0, 0]);
  });

  it('host.sysfs is the same shell-like view as host.fs', async () => {
    const host = createHost(virtDtb());
    expect(host.sysfs).toBe(host.fs);
    await host.sysfs.run('echo 9030000.pl061 > /sys/bus/amba/drivers/pl061_gpio/unbind');
    expect(host.device('9030000.pl061')?.driverName).toBeNull();
  });

  it('typed options win over the command line', () => {
    const host = createHost(virtDtb(), { cmdline: NOIOMMU, reset_required: true });
    expect(host.params.reset_required).toBe(true);
    expect(host.params.enable_unsafe_noiommu_mode).toBe(true);
  });

  it('rejects unknown option keys and mistyped values with EINVAL', () => {
    expect(errnoOf(() => createHost(virtDtb(), { resetRequired: false } as never))).toBe('EINVAL');
    expect(errnoOf(() => createHost(virtDtb(), { reset_required: 0 } as never))).toBe('EINVAL');
    expect(errnoOf(() => createHost(virtDtb(), { cmdline: 3 } as never))).toBe('EINVAL');
    expect(errnoOf(() => createHost(virtDtb(), null as never))).toBe('EINVAL');
  });

  it('keeps command-line parameters it does not know for init, and logs bad values of known ones', () => {
    const host = createHost(virtDtb(), {
      cmdline:
        'console=ttyAMA0 quiet single mode=rescue vfio.enable_unsafe_noiommu_mode=maybe foo.bar=1 -- x',
    });
    expect(host.initArgs).toEqual(['single', 'x']);
    expect(host.initEnv).toEqual(['mode=rescue']);
    expect(host.params.enable_unsafe_noiommu_mode).toBe(false);
    expect(host.log).toContain(
      "Booting kernel: `maybe' invalid for parameter `vfio.enable_unsafe_noiommu_mode'",
    );
  });
});
