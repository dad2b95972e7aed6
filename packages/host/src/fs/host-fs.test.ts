import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf, virtDtb } from '../test-support.js';

describe('HostFs', () => {
  it("modprobe loads one of vfiokit's emulated drivers (not in Linux); an unknown module is ENOENT, a loaded one EEXIST", async () => {
    const host = createHost(virtDtb());
    expect(host.fs.ls('/sys/bus/amba/drivers')).not.toContain('vfio-pl031');
    expect(host.fs.run('modprobe vfio-pl031')).toBe('');
    expect(host.fs.ls('/sys/bus/amba/drivers')).toContain('vfio-pl031');
    expect(errnoOf(() => host.fs.run('modprobe vfio-pl031'))).toBe('EEXIST');
    expect(errnoOf(() => host.fs.run('modprobe no-such-module'))).toBe('ENOENT');
    await host.fs.run('echo vfio-pl031 > /sys/bus/amba/devices/9010000.pl031/driver_override');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers_probe');
    expect(host.device('9010000.pl031')?.driverName).toBe('vfio-pl031');
  });

  it('serves the VFIO module parameters as /sys/module shows them (param_get_bool: Y/N)', () => {
    const host = createHost(virtDtb(), {
      cmdline: 'vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0',
    });
    expect(host.fs.cat('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode')).toBe('Y\n');
    expect(host.fs.cat('/sys/module/vfio_platform/parameters/reset_required')).toBe('N\n');
    expect(host.fs.cat('/sys/module/vfio_iommu_type1/parameters/dma_entry_limit')).toBe('65535\n');
    // MODULE_VERSION(DRIVER_VERSION); vfio_amba has a version but no parameters.
    expect(host.fs.ls('/sys/module/vfio_amba')).toEqual(['version']);
    expect(host.fs.cat('/sys/module/vfio_amba/version')).toBe('0.10\n');
    expect(host.fs.ls('/sys/module/vfio')).toEqual(['parameters', 'version']);
    expect(host.fs.ls('/sys/module')).toContain('vfio_platform_calxedaxgmac');
    expect(errnoOf(() => host.fs.ls('/sys/module/vfio_amba/parameters'))).toBe('ENOENT');
    // reset_required is 0444; allow_unsafe_interrupts 0644.
    expect(errnoOf(() => host.fs.write('/sys/module/vfio_platform/parameters/reset_required', '1'))).toBe(
      'EACCES',
    );
    expect(host.fs.write('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y\n')).toBe(2);
    expect(host.vfio.params.allowUnsafeInterrupts).toBe(true);
    expect(
      errnoOf(() => host.fs.write('/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'x')),
    ).toBe('EINVAL');
  });

  it('answers like the system calls: ENOENT, EISDIR, ENOTDIR, EINVAL for a non-link', () => {
    const host = createHost(virtDtb());
    expect(errnoOf(() => host.fs.cat('/proc/nope'))).toBe('ENOENT');
    expect(errnoOf(() => host.fs.cat('/dev/vfio'))).toBe('EISDIR');
    expect(errnoOf(() => host.fs.ls('/proc/sys/kernel/tainted'))).toBe('ENOTDIR');
    expect(errnoOf(() => host.fs.readlink('/proc/sys/kernel/tainted'))).toBe('EINVAL');
    expect(errnoOf(() => host.fs.write('/proc/cmdline', '1'))).toBe('EIO');
    expect(errnoOf(() => host.fs.cat('/dev/vfio/vfio'))).toBe('EINVAL');
    expect(host.fs.exists('/dev/vfio/vfio')).toBe(true);
    expect(host.fs.exists('/dev/vfio/0')).toBe(false);
    expect(host.fs.ls('/sys')).toContain('module');
  });

  it('a write to /proc/sys/kernel/tainted adds taint bits (proc_taint), never clears them', () => {
    const host = createHost(virtDtb());
    expect(host.fs.write('/proc/sys/kernel/tainted', '0\n')).toBe(2);
    expect(host.fs.write('/proc/sys/kernel/tainted', '4096\n')).toBe(5);
    expect(host.fs.write('/proc/sys/kernel/tainted', '0x1\n')).toBe(4);
    expect(host.fs.cat('/proc/sys/kernel/tainted')).toBe('4097\n');
    expect(errnoOf(() => host.fs.write('/proc/sys/kernel/tainted', 'x'))).toBe('EINVAL');
    expect(errnoOf(() => host.fs.write('/proc/sys/kernel/tainted', '-1'))).toBe('EINVAL');
    expect(host.fs.write('/proc/sys/kernel/tainted', '')).toBe(0);
  });

  it('shows the class devices drivers make under a device: rtc/rtc<N> (rtc0 is kept by alarmtimer) and vfio-dev/vfio<N>', async () => {
    const host = createHost(virtDtb(), { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
    const dev = '/sys/bus/amba/devices/9010000.pl031';
    expect(host.fs.ls(dev)).toContain('rtc');
    expect(host.fs.ls(`${dev}/rtc`)).toEqual(['rtc0']);
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    expect(host.fs.exists(`${dev}/rtc`)).toBe(false);
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/bind');
    expect(host.fs.ls(`${dev}/rtc`)).toEqual(['rtc1']);
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/bind');
    expect(host.fs.ls(`${dev}/rtc`)).toEqual(['rtc1']);
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    await host.fs.run(`echo vfio-amba > ${dev}/driver_override`);
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
    expect(host.fs.ls('/sys/devices/platform/9010000.pl031/vfio-dev')).toEqual(['vfio0']);
    expect(host.fs.ls(`${dev}`)).not.toContain('rtc');
  });

  it('runs shell commands: echo -n, cat, ls, readlink', async () => {
    const host = createHost(virtDtb());
    await host.fs.run('echo -n vfio-amba > /sys/bus/amba/devices/9030000.pl061/driver_override');
    expect(host.fs.run('cat /sys/bus/amba/devices/9030000.pl061/driver_override')).toBe('vfio-amba\n');
    expect(host.fs.run('ls /proc/sys/kernel')).toBe('tainted\n');
    expect(host.fs.run('readlink /sys/bus/amba/devices/9030000.pl061/driver')).toBe(
      '../../../bus/amba/drivers/pl061_gpio\n',
    );
    expect(errnoOf(() => host.fs.run('rm -rf /'))).toBe('EINVAL');
  });
});
