import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { dmaSandbox, SANDBOX_IOVA } from '../testing/dma-sandbox.js';
import { pl330DebugGo } from '../testing/scenarios/pl330.js';
import { Pl330Model } from './pl330.js';
import { assemblePl330, encodePl330, pl330Ccr } from './pl330-microcode.js';

describe('PL330 microcode encodings (drivers/dma/pl330.c _emit_*)', () => {
  it('encodes each instruction as the driver emits it', () => {
    expect(encodePl330({ op: 'MOV', reg: 'DAR', value: 0x12345678 })).toEqual([
      0xbc, 2, 0x78, 0x56, 0x34, 0x12,
    ]);
    expect(encodePl330({ op: 'LP', counter: 1, iterations: 16 })).toEqual([0x22, 15]); // "DMAC increments by 1 internally"
    expect(encodePl330({ op: 'LPEND', counter: 1, backwardJump: 2 })).toEqual([0x3c, 2]); // nf = 1
    expect(encodePl330({ op: 'SEV', event: 5 })).toEqual([0x34, 5 << 3]);
    expect(encodePl330({ op: 'WFP', peripheral: 3 })).toEqual([0x30, 3 << 3]);
    expect(encodePl330({ op: 'GO', channel: 2, address: 0x1000, nonSecure: true })).toEqual([
      0xa2, 2, 0, 0x10, 0, 0,
    ]);
    expect([encodePl330({ op: 'LD' }), encodePl330({ op: 'ST' }), encodePl330({ op: 'KILL' })]).toEqual([
      [0x04],
      [0x08],
      [0x01],
    ]);
    expect([encodePl330({ op: 'END' }), encodePl330({ op: 'NOP' })]).toEqual([[0x00], [0x18]]);
    expect(assemblePl330([{ op: 'NOP' }, { op: 'END' }])).toEqual(Uint8Array.of(0x18, 0x00));
  });

  it('matches every _emit_* byte for byte, the register/counter/security variants included', () => {
    // _emit_MOV: buf[1] = enum dmamov_dst { SAR = 0, CCR, DAR }.
    expect(encodePl330({ op: 'MOV', reg: 'SAR', value: 0xa0b0c0d0 })).toEqual([
      0xbc, 0, 0xd0, 0xc0, 0xb0, 0xa0,
    ]);
    expect(encodePl330({ op: 'MOV', reg: 'CCR', value: 1 })).toEqual([0xbc, 1, 1, 0, 0, 0]);
    // _emit_LP: `if (loop) buf[0] |= (1 << 1)`; buf[1] = cnt − 1.
    expect(encodePl330({ op: 'LP', counter: 0, iterations: 256 })).toEqual([0x20, 255]);
    expect(encodePl330({ op: 'LP', counter: 0, iterations: 1 })).toEqual([0x20, 0]);
    // _emit_LPEND (cond ALWAYS): `if (loop) buf[0] |= (1 << 2)`, `if (!forever) buf[0] |= (1 << 4)`.
    expect(encodePl330({ op: 'LPEND', counter: 0, backwardJump: 255 })).toEqual([0x38, 255]);
    expect(encodePl330({ op: 'LPEND', counter: 1, backwardJump: 7, forever: true })).toEqual([0x2c, 7]);
    // _emit_SEV / _emit_WFP (cond SINGLE): number << 3 in byte 1.
    expect(encodePl330({ op: 'SEV', event: 31 })).toEqual([0x34, 0xf8]);
    expect(encodePl330({ op: 'WFP', peripheral: 31 })).toEqual([0x30, 0xf8]);
    // _emit_GO: buf[0] = CMD_DMAGO | ns << 1; buf[1] = chan & 7; buf[2..5] = addr (LE).
    expect(encodePl330({ op: 'GO', channel: 7, address: 0xdeadbeef, nonSecure: false })).toEqual([
      0xa0, 7, 0xef, 0xbe, 0xad, 0xde,
    ]);
    // _ldst_memtomem on r1p0+: DMALD, DMAST with cond ALWAYS (no S/B bits).
    expect(assemblePl330([{ op: 'LD' }, { op: 'ST' }])).toEqual(Uint8Array.of(0x04, 0x08));
  });

  it('refuses an event, peripheral or channel number the kernel would silently mask (EINVAL)', () => {
    const attempts = [
      () => encodePl330({ op: 'SEV', event: 32 }),
      () => encodePl330({ op: 'WFP', peripheral: 32 }),
      () => encodePl330({ op: 'GO', channel: 8, address: 0, nonSecure: true }),
      () => encodePl330({ op: 'SEV', event: -1 }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(isKernelError(error, 'EINVAL')).toBe(true);
    }
  });

  it('builds CCR like _prepare_ccr: burst size log2 at bits 1 and 15, length − 1 at bits 4 and 18, increments at 0 and 14', () => {
    expect(pl330Ccr({ burstBytes: 4, burstLength: 4, increment: true })).toBe(
      1 | (2 << 1) | (3 << 4) | (1 << 14) | (2 << 15) | (3 << 18),
    );
    expect(pl330Ccr({ burstBytes: 1, burstLength: 1, increment: false })).toBe(0);
  });

  it('rejects operands that do not fit (EINVAL)', () => {
    const attempts = [
      () => encodePl330({ op: 'LP', counter: 0, iterations: 0 }),
      () => encodePl330({ op: 'LP', counter: 0, iterations: 257 }),
      () => encodePl330({ op: 'MOV', reg: 'SAR', value: -1 }),
      () => pl330Ccr({ burstBytes: 3, burstLength: 1, increment: true }),
      () => pl330Ccr({ burstBytes: 4, burstLength: 17, increment: true }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(isKernelError(error, 'EINVAL')).toBe(true);
    }
  });
});

describe('DMALPFE (LPEND with nf = 0)', () => {
  it('encodes without bit 4 and loops until killed', () => {
    expect(encodePl330({ op: 'LPEND', counter: 0, backwardJump: 1, forever: true })).toEqual([0x28, 1]);
    const sandbox = dmaSandbox();
    const model = new Pl330Model({ dma: sandbox.dma });
    sandbox.writeIova(
      SANDBOX_IOVA,
      assemblePl330([{ op: 'NOP' }, { op: 'LPEND', counter: 0, backwardJump: 1, forever: true }]),
    );
    pl330DebugGo(model, 0, SANDBOX_IOVA);
    model.tick(10_000);
    expect(model.dmaActive()).toBe(true);
    model.write(0xd08, 4, (0x01 << 16) | 1);
    model.write(0xd04, 4, 0);
    model.tick(1);
    expect(model.dmaActive()).toBe(false);
  });
});

describe('decoding', () => {
  it('DMASTP (0x29, 0x2b) is not mistaken for a DMALPFE: it faults as undefined (outside the subset)', () => {
    for (const opcode of [0x29, 0x2b]) {
      const sandbox = dmaSandbox();
      const model = new Pl330Model({ dma: sandbox.dma });
      sandbox.writeIova(SANDBOX_IOVA, Uint8Array.of(opcode, 0));
      pl330DebugGo(model, 0, SANDBOX_IOVA);
      model.tick(2);
      expect(model.read(0x100, 4) & 0xf).toBe(0xf); // CS0: faulting
      expect(model.read(0x040, 4)).toBe(1 << 0); // FTC0: undef_instr
    }
  });
});
