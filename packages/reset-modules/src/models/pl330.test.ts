import { describe, expect, it } from 'vitest';
import { dmaSandbox, SANDBOX_IOVA, SANDBOX_SIZE, UNMAPPED_IOVA } from '../testing/dma-sandbox.js';
import { pl330DebugGo } from '../testing/scenarios/pl330.js';
import { Pl330Model } from './pl330.js';
import { assemblePl330, type Pl330Instruction, pl330Ccr } from './pl330-microcode.js';
import {
  CPC,
  CR0,
  CS,
  DA,
  DBGCMD,
  DBGINST0,
  DBGINST1,
  DBGSTATUS,
  DS,
  ES,
  FSC,
  FSM,
  FTC,
  FTM,
  INTCLR,
  INTEN,
  INTSTATUS,
  SA,
} from './pl330-regs.js';

const PROGRAM = SANDBOX_IOVA;
const SRC = SANDBOX_IOVA + 0x4000;
const DST = SANDBOX_IOVA + 0x8000;

function rig() {
  const sandbox = dmaSandbox();
  const model = new Pl330Model({ dma: sandbox.dma });
  const run = (
    channel: number,
    program: readonly Pl330Instruction[],
    at = PROGRAM + channel * 0x200,
  ): void => {
    sandbox.writeIova(at, assemblePl330(program));
    pl330DebugGo(model, channel, at);
  };
  return { sandbox, model, run };
}

/** pl330.c-style copy: burst of 4 × 4 bytes per LD/ST, looped `bytes / 16` times, then an event. */
function copyProgram(src: number, dst: number, bytes: number, event: number): Pl330Instruction[] {
  return [
    { op: 'MOV', reg: 'CCR', value: pl330Ccr({ burstBytes: 4, burstLength: 4, increment: true }) },
    { op: 'MOV', reg: 'SAR', value: src },
    { op: 'MOV', reg: 'DAR', value: dst },
    { op: 'LP', counter: 0, iterations: bytes / 16 },
    { op: 'LD' },
    { op: 'ST' },
    { op: 'LPEND', counter: 0, backwardJump: 2 },
    { op: 'SEV', event },
    { op: 'END' },
  ];
}

describe('Pl330Model (drivers/dma/pl330.c register map, DMA-330 TRM)', () => {
  it('reads as a PrimeCell PL330: PERIPH_ID 0x00241330 (part 0x330, ARM, r1p1), PCELL_ID 0xB105F00D, 8 channels', () => {
    const { model } = rig();
    const bytes = (base: number) => [0, 1, 2, 3].map((i) => model.read(base + i * 4, 4));
    expect(bytes(0xfe0)).toEqual([0x30, 0x13, 0x24, 0x00]);
    expect(bytes(0xff0)).toEqual([0x0d, 0xf0, 0x05, 0xb1]);
    expect(((model.read(CR0, 4) >>> 4) & 7) + 1).toBe(8);
    expect(model.read(DS, 4) & 0xf).toBe(0);
  });

  it('copies a buffer through the IOMMU domain: DMALP/DMALD/DMAST/DMALPEND, then DMASEV raises the IRQ', () => {
    const { sandbox, model, run } = rig();
    const data = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff);
    sandbox.writeIova(SRC, data);
    model.write(INTEN, 4, 1 << 5);
    run(2, copyProgram(SRC, DST, 256, 5));
    expect(model.read(CS(2), 4) & 0xf).toBe(1); // executing
    model.tick(200);
    expect(sandbox.readIova(DST, 256)).toEqual(data);
    expect(model.read(CS(2), 4) & 0xf).toBe(0); // DMAEND: stopped
    expect(model.read(SA(2), 4)).toBe(SRC + 256);
    expect(model.read(DA(2), 4)).toBe(DST + 256);
    expect(model.read(INTSTATUS, 4)).toBe(1 << 5);
    expect(model.irqAsserted()).toBe(true);
    model.write(INTCLR, 4, 1 << 5);
    expect(model.read(ES, 4)).toBe(0);
    expect(model.irqAsserted()).toBe(false);
  });

  it('a load from an unmapped IOVA faults: FSC bit, FTC data_read_err (bit 18), the abort IRQ, and the IOMMU fault kept', () => {
    const { model, run } = rig();
    run(3, copyProgram(UNMAPPED_IOVA, DST, 32, 0));
    model.tick(50);
    expect(model.read(CS(3), 4) & 0xf).toBe(0xf); // faulting
    expect(model.read(FSC, 4)).toBe(1 << 3);
    expect(model.read(FTC(3), 4)).toBe(1 << 18);
    expect(model.irqAsserted()).toBe(true);
    expect(model.channelFault(3)).toMatchObject({ kind: 'translation', iova: UNMAPPED_IOVA, access: 'read' });
    expect(model.dmaActive()).toBe(false);
  });

  it('a store to an unmapped IOVA is data_write_err (bit 17); a program at an unmapped IOVA is instr_fetch_err (bit 16)', () => {
    const { model, run } = rig();
    run(0, copyProgram(SRC, UNMAPPED_IOVA, 16, 0));
    pl330DebugGo(model, 1, UNMAPPED_IOVA);
    model.tick(20);
    expect(model.read(FTC(0), 4)).toBe(1 << 17);
    expect(model.channelFault(0)).toMatchObject({ access: 'write' });
    expect(model.read(FTC(1), 4)).toBe(1 << 16);
    expect(model.read(CPC(1), 4)).toBe(UNMAPPED_IOVA);
    expect(model.read(FSC, 4)).toBe(0b11);
  });

  it('a burst that runs off the mapped window stops at the faulting beat: earlier beats land, SA/DA point at the fault', () => {
    const { sandbox, model, run } = rig();
    const end = SANDBOX_IOVA + SANDBOX_SIZE;
    const data = Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i);
    sandbox.writeIova(end - 8, data);
    // 4 beats of 4 bytes from end − 8: beats 0 and 1 are mapped, beat 2 faults.
    const ccr = pl330Ccr({ burstBytes: 4, burstLength: 4, increment: true });
    run(0, [
      { op: 'MOV', reg: 'CCR', value: ccr },
      { op: 'MOV', reg: 'SAR', value: end - 8 },
      { op: 'LD' },
      { op: 'END' },
    ]);
    model.tick(5);
    expect(model.read(FTC(0), 4)).toBe(1 << 18);
    expect(model.read(SA(0), 4)).toBe(end);
    expect(model.channelFault(0)).toMatchObject({ iova: end, access: 'read' });
    // A store of 4 beats from a full FIFO to end − 8: two beats written, DA at the fault.
    sandbox.writeIova(
      SRC,
      Uint8Array.from({ length: 16 }, (_, i) => i + 1),
    );
    sandbox.writeIova(end - 8, new Uint8Array(8));
    run(1, [
      { op: 'MOV', reg: 'CCR', value: ccr },
      { op: 'MOV', reg: 'SAR', value: SRC },
      { op: 'MOV', reg: 'DAR', value: end - 8 },
      { op: 'LD' },
      { op: 'ST' },
      { op: 'END' },
    ]);
    model.tick(5);
    expect(model.read(FTC(1), 4)).toBe(1 << 17);
    expect(model.read(DA(1), 4)).toBe(end);
    expect(sandbox.readIova(end - 8, 8)).toEqual(Uint8Array.from({ length: 8 }, (_, i) => i + 1));
  });

  it('fixed-address bursts (no increment) read and write the same address once per beat', () => {
    const { sandbox, model, run } = rig();
    sandbox.writeIova(SRC, Uint8Array.of(9, 8));
    run(0, [
      { op: 'MOV', reg: 'CCR', value: pl330Ccr({ burstBytes: 2, burstLength: 3, increment: false }) },
      { op: 'MOV', reg: 'SAR', value: SRC },
      { op: 'MOV', reg: 'DAR', value: DST },
      { op: 'LD' },
      { op: 'ST' },
      { op: 'END' },
    ]);
    const before = sandbox.dma.accesses;
    model.tick(5);
    expect(model.read(CS(0), 4) & 0xf).toBe(0);
    expect(model.read(SA(0), 4)).toBe(SRC);
    expect(model.read(DA(0), 4)).toBe(DST);
    expect(sandbox.readIova(DST, 4)).toEqual(Uint8Array.of(9, 8, 0, 0));
    // 6 fetches (MOV ×3 opcode + operands), LD, ST, END: 3 × 2 + 1 + 1 + 1, plus 3 reads and 3 writes.
    expect(sandbox.dma.accesses - before).toBe(3 * 2 + 3 + 3 + 3);
  });

  it('DMAKILL through the debug interface stops a faulting channel and clears its fault (DMA-330 TRM)', () => {
    const { model, run } = rig();
    run(3, copyProgram(UNMAPPED_IOVA, DST, 32, 0));
    model.tick(10);
    model.write(DBGINST0, 4, (0x01 << 16) | (3 << 8) | 1);
    model.write(DBGCMD, 4, 0);
    expect(model.read(CS(3), 4) & 0xf).toBe(8); // killing
    model.tick(1);
    expect(model.read(CS(3), 4) & 0xf).toBe(0);
    expect(model.read(FSC, 4)).toBe(0);
    expect(model.read(FTC(3), 4)).toBe(0);
  });

  it('DMAWFP waits until the peripheral requests; nothing moves meanwhile', () => {
    const { sandbox, model, run } = rig();
    sandbox.writeIova(SRC, Uint8Array.of(1, 2, 3, 4));
    run(4, [
      { op: 'MOV', reg: 'CCR', value: pl330Ccr({ burstBytes: 4, burstLength: 1, increment: true }) },
      { op: 'MOV', reg: 'SAR', value: SRC },
      { op: 'MOV', reg: 'DAR', value: DST },
      { op: 'WFP', peripheral: 2 },
      { op: 'LD' },
      { op: 'ST' },
      { op: 'END' },
    ]);
    model.tick(100);
    expect(model.read(CS(4), 4) & 0xf).toBe(7); // waiting for peripheral
    expect(sandbox.readIova(DST, 4)).toEqual(new Uint8Array(4));
    model.peripheralRequest(1);
    model.tick(10);
    expect(model.read(CS(4), 4) & 0xf).toBe(7);
    model.peripheralRequest(2);
    model.tick(10);
    expect(sandbox.readIova(DST, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
  });

  it('the manager refuses a Secure DMAGO from the Non-secure state (FSM, FTM dmago_err) until DMAKILL', () => {
    const { model } = rig();
    model.write(DBGINST0, 4, (1 << 24) | (0xa0 << 16));
    model.write(DBGCMD, 4, 0);
    expect(model.read(DS, 4) & 0xf).toBe(0xf);
    expect(model.read(FSM, 4)).toBe(1);
    expect(model.read(FTM, 4)).toBe(1 << 4);
    model.write(DBGINST0, 4, 0x01 << 16);
    model.write(DBGCMD, 4, 0);
    expect(model.read(FSM, 4)).toBe(0);
    expect(model.read(FTM, 4)).toBe(0);
  });

  it('DBGINST0/1 writes while DBGSTATUS is busy are dropped (TRM DDI 0424 example 2-1 polls idle first)', () => {
    const { sandbox } = rig();
    const model = new Pl330Model({ dma: sandbox.dma, debugBusyMicroseconds: 2 });
    model.write(DBGINST0, 4, 0x01 << 16); // manager DMAKILL: taken, the unit goes busy
    model.write(DBGCMD, 4, 0);
    expect(model.read(DBGSTATUS, 4) & 1).toBe(1);
    model.write(DBGINST0, 4, (0x18 << 16) | (5 << 8) | 1);
    model.write(DBGINST1, 4, 0x1234);
    expect(model.read(DBGINST0, 4)).toBe(0x01 << 16);
    expect(model.read(DBGINST1, 4)).toBe(0);
    model.tick(2);
    expect(model.read(DBGSTATUS, 4) & 1).toBe(0);
    model.write(DBGINST1, 4, 0x1234);
    expect(model.read(DBGINST1, 4)).toBe(0x1234);
  });

  it('an instruction outside the debug set (DMANOP) faults the thread with dbg_instr', () => {
    const { model } = rig();
    model.write(DBGINST0, 4, (0x18 << 16) | (5 << 8) | 1);
    model.write(DBGCMD, 4, 0);
    expect(model.read(CS(5), 4) & 0xf).toBe(0xf);
    expect(model.read(FTC(5), 4)).toBe(1 << 30);
  });

  it('an undefined opcode in a program faults with undef_instr; DMAST without data with st_data_unavailable', () => {
    const { sandbox, model } = rig();
    sandbox.writeIova(PROGRAM, Uint8Array.of(0xff));
    pl330DebugGo(model, 0, PROGRAM);
    sandbox.writeIova(PROGRAM + 0x200, assemblePl330([{ op: 'MOV', reg: 'DAR', value: DST }, { op: 'ST' }]));
    pl330DebugGo(model, 1, PROGRAM + 0x200);
    model.tick(5);
    expect(model.read(FTC(0), 4)).toBe(1 << 0);
    expect(model.read(FTC(1), 4)).toBe(1 << 13);
  });
});
