import { VfioContainerHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { UART_DEVICE, uartEmulatedIommuExample, uartHost } from './uart-emulated-iommu.js';

describe('example: seed 001, the QEMU virt PL011 through vfio-pl011 vs no-IOMMU mode', () => {
  it('vfio-pl011 serves it on /dev/vfio/0 with TYPE1v2 and no taint; no-IOMMU vfio-amba taints (64); neither is EINVAL', async () => {
    const outcome = await uartEmulatedIommuExample();
    // drivers/tty/serial/amba-pl011.c: built in with suppress_bind_attrs, so no unbind file.
    expect(outcome.consoleUnbind).toBe('ENOENT');
    expect(outcome.emulated).toMatchObject({
      driver: 'vfio-pl011',
      devVfio: ['0', 'devices', 'vfio'],
      groupName: 'vfio-noiommu',
      iommuType: 'TYPE1v2',
      periphId0: 0x11,
      cellId0: 0x0d,
      irqSignals: [1n, 1n],
      tainted: 0,
      taintLog: [],
    });
    expect(outcome.noiommu).toMatchObject({
      driver: 'vfio-amba',
      devVfio: ['noiommu-0', 'vfio'],
      iommuType: 'NOIOMMU',
      irqSignals: [1n, 1n],
      tainted: 64,
      taintLog: [`vfio-amba ${UART_DEVICE}: Adding kernel taint for vfio-noiommu group on device`],
    });
    expect(outcome.neither).toEqual({ driver: null, probeError: 'EINVAL', tainted: 0 });
  });

  it('the second interrupt count has teeth: without the VFIO unmask the automasked line stays silent', async () => {
    const host = await uartHost();
    host.loadEmulatedDriver('vfio-pl011');
    await host.fs.run(`echo vfio-pl011 > /sys/bus/amba/devices/${UART_DEVICE}/driver_override`);
    await host.fs.run(`echo ${UART_DEVICE} > /sys/bus/amba/drivers_probe`);
    const proc = host.spawn();
    const container = VfioContainerHandle.open(proc);
    const group = VfioGroupHandle.open(proc, '0');
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const fd = group.getDevice(UART_DEVICE);
    const word = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
    const trigger = proc.eventfd();
    fd.enableIrq(0, [trigger]);
    fd.write(fd.regionInfo(0), 0x38, word(1 << 5));
    fd.write(fd.regionInfo(0), 0x00, word(0x41));
    expect(proc.eventfdOf(trigger).read()).toBe(1n);
    fd.write(fd.regionInfo(0), 0x44, word(1 << 5));
    fd.write(fd.regionInfo(0), 0x00, word(0x42));
    expect(proc.eventfdOf(trigger).readable).toBe(false);
  });
});
