/**
 * Scenario (seed 000, Virtual Open Systems' "Testing VFIO_PLATFORM with the PL330 DMA
 * Controller"): the Juno r2's PL330 (dma-controller@7ff00000, behind the MMU-401 at 7fb00000)
 * through vfio-amba and type1, programmed by the "guest" through the device fd:
 *
 * - type1 refuses the container without `allow_unsafe_interrupts` (EPERM: the PL330 has no
 *   isolating MSI parent, vfio_iommu_type1_attach_group), and takes it with;
 * - a 256-byte copy inside guest RAM, addressed by IOVA, goes through the SMMU domain VFIO
 *   mapped (the MMU-401 model walks the io-pgtable-arm tables for stream 0);
 * - a source outside every mapping faults at the SMMU (a context fault, FSR.TF);
 * - a runaway channel (an endless loop) is stopped by the reset at the device's last close.
 *
 * The reset is vfiokit's PL330 module (NOT IN LINUX, opt-in: registry mode 'vfiokit'); an
 * upstream registry refuses it with ENOENT, which the outcome also shows.
 * test/vfio-juno.test.ts is the reference for every step.
 */

import { isKernelError, physAddr } from '@vfiokit/core';
import {
  assemblePl330,
  type Pl330Instruction,
  pl330Ccr,
  pl330ResetModule,
  ResetRegistry,
} from '@vfiokit/reset-modules';
import { UserProcess, VfioContainerHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import {
  GUEST_RAM_PHYS,
  GUEST_RAM_SIZE,
  type JunoPl330HostOptions,
  junoPl330Host,
} from './pl330-smmu/juno-pl330-host.js';
import { runIfMain } from './run-if-main.js';

export {
  GUEST_RAM_PHYS,
  GUEST_RAM_SIZE,
  type JunoPl330Host,
  type JunoPl330HostOptions,
  junoPl330Host,
  PL330_DEVICE,
} from './pl330-smmu/juno-pl330-host.js';

const GUEST_RAM_VADDR = 0x7f00_0000_0000;
const GUEST_RAM_IOVA = 0x8000_0000;
// pl330.c _trigger / _execute_DBGINST: DMAGO goes through DBGINST0, DBGINST1, DBGCMD.
const DBGCMD = 0xd04;
const DBGINST0 = 0xd08;
const DBGINST1 = 0xd0c;
const CMD_DMAGO = 0xa0;

/** What {@link pl330SmmuExample} saw. */
export interface Pl330SmmuOutcome {
  readonly device: string;
  readonly iommuGroup: number;
  /** The errno of VFIO_SET_IOMMU before allow_unsafe_interrupts was set. */
  readonly setIommuWithoutUnsafeInterrupts: string;
  readonly iovaRanges: readonly { readonly start: bigint; readonly end: bigint }[];
  /** The 256-byte copy through the SMMU arrived intact. */
  readonly copyIntact: boolean;
  /** The channel that read outside the mappings: its fault, and the arm-smmu log line. */
  readonly outsideFault: string | null;
  readonly smmuLog: readonly string[];
  readonly dmaActiveBeforeClose: boolean;
  readonly dmaActiveAfterClose: boolean;
  /** vfio-platform's events on the device (reset at open, reset at close). */
  readonly events: readonly string[];
  readonly resetSummary: string;
  /** `register(pl330ResetModule)` on an upstream-mode registry. */
  readonly upstreamRegister: string;
}

/** Runs the scenario on a fresh Juno host (`pl330Reset: false`: without vfiokit's reset module). */
export function pl330SmmuExample(options: JunoPl330HostOptions = {}): Pl330SmmuOutcome {
  const host = junoPl330Host(options);
  const vmm = new UserProcess({ vfio: host.vfio, rlimitMemlock: 2 * GUEST_RAM_SIZE });
  vmm.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(GUEST_RAM_PHYS), GUEST_RAM_SIZE);
  const container = VfioContainerHandle.open(vmm);
  const group = VfioGroupHandle.open(vmm, host.groupId);
  group.setContainer(container);
  let setIommuWithoutUnsafeInterrupts = 'ok';
  try {
    container.setIommu(VFIO_TYPE1v2_IOMMU);
  } catch (error) {
    if (!isKernelError(error)) throw error;
    setIommuWithoutUnsafeInterrupts = error.code;
  }
  host.vfio.params.allowUnsafeInterrupts = true; // vfio_iommu_type1.allow_unsafe_interrupts=1
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  const iovaRanges = container.iommuInfo().iovaRanges;
  container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: GUEST_RAM_IOVA, size: GUEST_RAM_SIZE });

  const handle = group.getDevice(host.dt.name);
  const regs = handle.regionInfo(0);
  const write32 = (offset: number, value: number): void => {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
    handle.write(regs, offset, bytes);
  };
  const dmaGo = (channel: number, program: number): void => {
    write32(DBGINST0, (channel << 24) | ((CMD_DMAGO | 2) << 16));
    write32(DBGINST1, program);
    write32(DBGCMD, 0);
  };
  // The guest writes its microcode into its RAM; the VMM's view of it is the host's memory.
  const load = (iova: number, program: Pl330Instruction[]): void => {
    host.memory.write(physAddr(GUEST_RAM_PHYS + (iova - GUEST_RAM_IOVA)), assemblePl330(program));
  };
  const ccr = pl330Ccr({ burstBytes: 4, burstLength: 4, increment: true });

  const source = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff);
  host.memory.write(physAddr(GUEST_RAM_PHYS + 0x2000), source);
  const body: Pl330Instruction[] = [{ op: 'LD' }, { op: 'ST' }];
  load(GUEST_RAM_IOVA + 0x1000, [
    { op: 'MOV', reg: 'SAR', value: GUEST_RAM_IOVA + 0x2000 },
    { op: 'MOV', reg: 'DAR', value: GUEST_RAM_IOVA + 0x3000 },
    { op: 'MOV', reg: 'CCR', value: ccr },
    { op: 'LP', counter: 0, iterations: 16 },
    ...body,
    { op: 'LPEND', counter: 0, backwardJump: assemblePl330(body).length },
    { op: 'END' },
  ]);
  dmaGo(0, GUEST_RAM_IOVA + 0x1000);
  host.pl330.tick(1000);
  const copied = new Uint8Array(256);
  host.memory.read(physAddr(GUEST_RAM_PHYS + 0x3000), copied);
  const copyIntact = copied.every((byte, i) => byte === source[i]);

  load(GUEST_RAM_IOVA + 0x1200, [
    { op: 'MOV', reg: 'SAR', value: 0x4000_0000 },
    { op: 'MOV', reg: 'DAR', value: GUEST_RAM_IOVA + 0x3000 },
    { op: 'MOV', reg: 'CCR', value: ccr },
    { op: 'LD' },
    { op: 'END' },
  ]);
  dmaGo(1, GUEST_RAM_IOVA + 0x1200);
  host.pl330.tick(100);
  const fault = host.pl330.channelFault(1);

  load(GUEST_RAM_IOVA + 0x1400, [
    { op: 'LP', counter: 0, iterations: 1 },
    { op: 'NOP' },
    { op: 'LPEND', counter: 0, backwardJump: 1, forever: true },
    { op: 'END' },
  ]);
  dmaGo(2, GUEST_RAM_IOVA + 0x1400);
  host.pl330.tick(100);
  const dmaActiveBeforeClose = host.pl330.dmaActive();
  handle.close();
  const dmaActiveAfterClose = host.pl330.dmaActive();

  let upstreamRegister = 'ok';
  try {
    new ResetRegistry().register(pl330ResetModule);
  } catch (error) {
    if (!isKernelError(error)) throw error;
    upstreamRegister = error.code;
  }
  return {
    device: host.dt.name,
    iommuGroup: host.groupId,
    setIommuWithoutUnsafeInterrupts,
    iovaRanges,
    copyIntact,
    outsideFault: fault === null ? null : `${fault.kind} at IOVA 0x${fault.iova.toString(16)}`,
    smmuLog: host.log.filter((line) => line.includes('context fault')),
    dmaActiveBeforeClose,
    dmaActiveAfterClose,
    events: [...host.bound.platformDevice.events],
    resetSummary: host.bound.platformDevice.resetReport.summary,
    upstreamRegister,
  };
}

/** The outcome as the README shows it. */
export function formatPl330Smmu(outcome: Pl330SmmuOutcome): string {
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  return [
    `${outcome.device}: vfio-amba, IOMMU group ${outcome.iommuGroup} (MMU-401 at 7fb00000)`,
    `VFIO_SET_IOMMU(TYPE1v2) without allow_unsafe_interrupts: ${outcome.setIommuWithoutUnsafeInterrupts}`,
    `IOVA ranges: ${outcome.iovaRanges.map((r) => `${hex(r.start)}-${hex(r.end)}`).join(', ')}`,
    `256-byte copy through the SMMU: ${outcome.copyIntact ? 'intact' : 'CORRUPT'}`,
    `read outside the mappings: ${outcome.outsideFault ?? 'no fault'}`,
    ...outcome.smmuLog.map((line) => `  ${line}`),
    `runaway channel: DMA active ${outcome.dmaActiveBeforeClose} before close, ${outcome.dmaActiveAfterClose} after`,
    `vfio-platform events: ${outcome.events.join(', ')}`,
    outcome.resetSummary,
    `upstream registry, register(pl330ResetModule): ${outcome.upstreamRegister}`,
  ].join('\n');
}

runIfMain(import.meta.url, () => formatPl330Smmu(pl330SmmuExample()));
