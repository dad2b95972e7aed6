/**
 * Scenario (seed 001, Mostafa Saleh's 2024 RFC "Simple device assignment with VFIO platform"):
 * QEMU virt's PL011, a UART that cannot do DMA, handed to a VMM two ways —
 *
 * - through vfiokit's `vfio-pl011` (NOT IN LINUX: the VFIO maintainer's suggested design, a
 *   device-specific driver registered with vfio_register_emulated_iommu_dev): group
 *   `/dev/vfio/0`, type1v2 on the emulated IOMMU, no taint;
 * - through upstream `vfio-amba` in no-IOMMU mode (`vfio.enable_unsafe_noiommu_mode=1`):
 *   `/dev/vfio/noiommu-0`, VFIO_NOIOMMU_IOMMU, and the kernel is tainted (TAINT_USER, 64:
 *   drivers/vfio/group.c vfio_noiommu_group_alloc → add_taint);
 * - and without either, upstream `vfio-amba` refuses it (no IOMMU group: EINVAL from
 *   vfio_group_find_or_alloc).
 *
 * Honestly: the oracle's kernel builds the console driver `uart-pl011` in with
 * suppress_bind_attrs, so on it no user space can unbind this UART (there is no `unbind` file:
 * the first line of the output). As test/emulated-iommu-e2e.test.ts does, each run below
 * models a host whose kernel has no built-in PL011 driver (console elsewhere) by unregistering
 * `uart-pl011` before any user-space step; everything after that is sysfs and VFIO syscalls.
 */

import { isKernelError } from '@vfiokit/core';
import { createHost, type Host } from '@vfiokit/host';
import { VfioContainerHandle, type VfioDeviceHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { VFIO_NOIOMMU_IOMMU, VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { oracleDtb } from './fixtures.js';
import { runIfMain } from './run-if-main.js';

export const UART_DEVICE = '9000000.pl011';

const UARTDR = 0x00;
const UARTIMSC = 0x38;
const UARTICR = 0x44;
const TXIM = 1 << 5;

/** One hand-over: which driver took the UART, what the VMM saw, what the kernel recorded. */
export interface UartPathRun {
  readonly driver: string | null;
  /** `/dev/vfio` after the bind. */
  readonly devVfio: readonly string[];
  /** The group's name in /sys/kernel/iommu_groups (both paths call it `vfio-noiommu`). */
  readonly groupName: string | null;
  /** The IOMMU type the VMM set: `TYPE1v2` (emulated IOMMU) or `NOIOMMU`. */
  readonly iommuType: 'TYPE1v2' | 'NOIOMMU';
  /** PrimeCell PeriphID0 and CellID0 read through the device fd (0x11, 0x0d). */
  readonly periphId0: number;
  readonly cellId0: number;
  /** TRIGGER eventfd counts for two transmitted bytes, the level IRQ cleared and unmasked between. */
  readonly irqSignals: readonly bigint[];
  /** /proc/sys/kernel/tainted, and the kernel log's taint lines. */
  readonly tainted: number;
  readonly taintLog: readonly string[];
}

/** What {@link uartEmulatedIommuExample} saw. */
export interface UartEmulatedIommuOutcome {
  readonly device: string;
  /** The unbind on the oracle's kernel as it is (uart-pl011 built in: no unbind file). */
  readonly consoleUnbind: string;
  readonly emulated: UartPathRun;
  readonly noiommu: UartPathRun;
  /** Neither: vfio-amba's probe error and the taint. */
  readonly neither: {
    readonly driver: string | null;
    readonly probeError: string | null;
    readonly tainted: number;
  };
}

/** The oracle's QEMU virt host without the built-in console driver (see the file comment). */
export async function uartHost(cmdline = ''): Promise<Host> {
  const host = createHost(oracleDtb('virt_gic-version_3'), { cmdline });
  await host.core.amba.unregisterDriver('uart-pl011');
  return host;
}

function read32(fd: VfioDeviceHandle, offset: number): number {
  const buffer = new Uint8Array(4);
  fd.read(fd.regionInfo(0), offset, buffer);
  return new DataView(buffer.buffer).getUint32(0, true);
}

function write32(fd: VfioDeviceHandle, offset: number, value: number): void {
  fd.write(fd.regionInfo(0), offset, new Uint8Array(new Uint32Array([value >>> 0]).buffer));
}

async function handOver(host: Host, driver: 'vfio-pl011' | 'vfio-amba'): Promise<UartPathRun> {
  await host.fs.run(`echo ${driver} > /sys/bus/amba/devices/${UART_DEVICE}/driver_override`);
  await host.fs.run(`echo ${UART_DEVICE} > /sys/bus/amba/drivers_probe`);
  const devVfio = host.fs.ls('/dev/vfio');
  const emulated = driver === 'vfio-pl011';
  const proc = host.spawn();
  const container = VfioContainerHandle.open(proc);
  const group = VfioGroupHandle.open(proc, emulated ? '0' : 'noiommu-0');
  group.setContainer(container);
  container.setIommu(emulated ? VFIO_TYPE1v2_IOMMU : VFIO_NOIOMMU_IOMMU);
  const fd = group.getDevice(UART_DEVICE);
  const periphId0 = read32(fd, 0xfe0);
  const cellId0 = read32(fd, 0xff0);
  // UARTINTR through an eventfd: transmit, clear at the device, unmask at VFIO (automasked level), again.
  const trigger = proc.eventfd();
  fd.enableIrq(0, [trigger]);
  write32(fd, UARTIMSC, TXIM);
  write32(fd, UARTDR, 0x41);
  const first = proc.eventfdOf(trigger).read();
  write32(fd, UARTICR, TXIM);
  fd.unmaskIrq(0);
  write32(fd, UARTDR, 0x42);
  const second = proc.eventfdOf(trigger).read();
  fd.close();
  // The device's iommu_group link names the group vfio made for it (vfio's fake group: the
  // host's IOMMU layer has none for this UART).
  const link = host.fs.readlink(`/sys/bus/amba/devices/${UART_DEVICE}/iommu_group`);
  const groupId = link.split('/').at(-1);
  return {
    driver: host.device(UART_DEVICE)?.driverName ?? null,
    devVfio,
    groupName: groupId === undefined ? null : (host.iommuGroupName(Number(groupId)) ?? null),
    iommuType: emulated ? 'TYPE1v2' : 'NOIOMMU',
    periphId0,
    cellId0,
    irqSignals: [first, second],
    tainted: host.tainted,
    taintLog: host.log.filter((line) => line.includes('taint')),
  };
}

/** Runs the scenario: the console as it is, then each path on a fresh host. */
export async function uartEmulatedIommuExample(): Promise<UartEmulatedIommuOutcome> {
  let consoleUnbind = '';
  const oracle = createHost(oracleDtb('virt_gic-version_3'));
  try {
    await oracle.fs.run(`echo ${UART_DEVICE} > /sys/bus/amba/drivers/uart-pl011/unbind`);
  } catch (error) {
    if (!isKernelError(error)) throw error;
    consoleUnbind = error.code;
  }

  const emulatedHost = await uartHost();
  emulatedHost.loadEmulatedDriver('vfio-pl011');
  const emulated = await handOver(emulatedHost, 'vfio-pl011');
  const noiommu = await handOver(await uartHost('vfio.enable_unsafe_noiommu_mode=1'), 'vfio-amba');

  const plain = await uartHost();
  await plain.fs.run(`echo vfio-amba > /sys/bus/amba/devices/${UART_DEVICE}/driver_override`);
  await plain.fs.run(`echo ${UART_DEVICE} > /sys/bus/amba/drivers_probe`);
  const device = plain.device(UART_DEVICE);
  return {
    device: UART_DEVICE,
    consoleUnbind,
    emulated,
    noiommu,
    neither: {
      driver: device?.driverName ?? null,
      probeError: device?.lastProbeError?.code ?? null,
      tainted: plain.tainted,
    },
  };
}

function formatRun(title: string, run: UartPathRun): string[] {
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
  return [
    `${title}:`,
    `  bound to ${run.driver ?? 'nothing'}; /dev/vfio: ${run.devVfio.join(' ')}; group name ${run.groupName ?? '-'}; IOMMU type ${run.iommuType}`,
    `  PeriphID0 ${hex(run.periphId0)}, CellID0 ${hex(run.cellId0)}; TX interrupts signalled: ${run.irqSignals.join(', ')}`,
    `  tainted: ${run.tainted}${run.taintLog.length === 0 ? '' : ` — ${run.taintLog.join(' | ')}`}`,
  ];
}

/** The outcome as the README shows it. */
export function formatUartEmulatedIommu(outcome: UartEmulatedIommuOutcome): string {
  return [
    `oracle kernel: echo ${outcome.device} > /sys/bus/amba/drivers/uart-pl011/unbind → ${outcome.consoleUnbind || 'ok'} (built-in console, suppress_bind_attrs)`,
    'below: a host without the built-in PL011 driver',
    ...formatRun('vfio-pl011 (emulated IOMMU; vfiokit, not in Linux)', outcome.emulated),
    ...formatRun('vfio-amba, no-IOMMU mode (upstream)', outcome.noiommu),
    `vfio-amba without either: bound to ${outcome.neither.driver ?? 'nothing'}, probe ${outcome.neither.probeError ?? 'ok'}, tainted ${outcome.neither.tainted}`,
  ].join('\n');
}

runIfMain(import.meta.url, async () => formatUartEmulatedIommu(await uartEmulatedIommuExample()));
