import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { CalxedaXgmacModel } from '../models/calxeda-xgmac.js';
import { Pl330Model } from '../models/pl330.js';
import { assemblePl330 } from '../models/pl330-microcode.js';
import { dmaSandbox, SANDBOX_IOVA } from '../testing/dma-sandbox.js';
import { modelTarget } from '../testing/model-target.js';
import { type MmioAccess, recordTarget } from '../testing/recording-mmio.js';
import { pl330DebugGo } from '../testing/scenarios/pl330.js';
import { pl330Reset, pl330ResetWithout } from './pl330-reset.js';

const device = { name: '7ff00000.dma-controller', compatible: ['arm,pl330', 'arm,primecell'] };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A PL330 with channel 1 in a long loop, channel 6 waiting for a peripheral, and a manager fault. */
function busyPl330(options: { killMicroseconds?: number } = {}) {
  const sandbox = dmaSandbox();
  const model = new Pl330Model({ dma: sandbox.dma, ...options });
  sandbox.writeIova(
    SANDBOX_IOVA,
    assemblePl330([
      { op: 'LP', counter: 0, iterations: 256 },
      { op: 'NOP' },
      { op: 'LPEND', counter: 0, backwardJump: 1 },
    ]),
  );
  sandbox.writeIova(SANDBOX_IOVA + 0x200, assemblePl330([{ op: 'WFP', peripheral: 1 }, { op: 'END' }]));
  sandbox.writeIova(
    SANDBOX_IOVA + 0x400,
    assemblePl330([{ op: 'SEV', event: 9 }, { op: 'SEV', event: 4 }, { op: 'END' }]),
  );
  model.write(0x020, 4, 1 << 4); // INTEN: event 4 → IRQ; event 9 stays a plain event
  pl330DebugGo(model, 1, SANDBOX_IOVA);
  pl330DebugGo(model, 6, SANDBOX_IOVA + 0x200);
  pl330DebugGo(model, 2, SANDBOX_IOVA + 0x400);
  model.tick(5);
  model.write(0xd08, 4, 0x18 << 16); // DMANOP on the manager: dbg_instr fault
  model.write(0xd04, 4, 0);
  return { model, sandbox };
}

describe('pl330Reset (vfiokit design; pl330.c _stop/_execute_DBGINSN for the mechanics)', () => {
  it('kills the manager first, then each live channel, waits, clears events, zeroes DBGINST, verifies', () => {
    const { model } = busyPl330();
    expect(model.dmaActive()).toBe(true);
    expect(model.irqAsserted()).toBe(true);
    const { target, log } = recordTarget(modelTarget(model, device));
    pl330Reset(target);
    const writes = log.filter((e): e is MmioAccess => e.op === 'write').map((e) => [e.offset, e.value]);
    expect(writes).toEqual([
      [0xd08, 0x01 << 16], // manager DMAKILL
      [0xd0c, 0],
      [0xd04, 0],
      [0xd08, (0x01 << 16) | (1 << 8) | 1], // channel 1 DMAKILL
      [0xd0c, 0],
      [0xd04, 0],
      [0xd08, (0x01 << 16) | (6 << 8) | 1], // channel 6 DMAKILL
      [0xd0c, 0],
      [0xd04, 0],
      [0x020, 0xffff_ffff], // INTEN: route every event to the IRQ …
      [0x02c, 0xffff_ffff], // … so INTCLR clears them all …
      [0x020, 0], // … then disable
      [0xd08, 0],
      [0xd0c, 0],
    ]);
    // Channel 2 had already run DMAEND: Stopped threads are left alone (as _stop does).
    expect(log.some((e) => e.op === 'delay')).toBe(true);
    expect(model.dmaActive()).toBe(false);
    expect(model.irqAsserted()).toBe(false);
    expect(model.read(0x024, 4)).toBe(0); // ES: the plain event 9 is gone too
  });

  it('issues each DMAKILL in _execute_DBGINSN order (TRM DDI 0424 example 2-1): poll DBGSTATUS until idle, DBGINST0, DBGINST1, DBGCMD', () => {
    const sandbox = dmaSandbox();
    const model = new Pl330Model({ dma: sandbox.dma, debugBusyMicroseconds: 3 });
    sandbox.writeIova(SANDBOX_IOVA, assemblePl330([{ op: 'WFP', peripheral: 0 }, { op: 'END' }]));
    pl330DebugGo(model, 3, SANDBOX_IOVA); // leaves the debug unit busy for 3 µs
    const { target, log } = recordTarget(modelTarget(model, device));
    pl330Reset(target);
    const debug = log
      .filter((e) => e.op === 'delay' || (e.offset >= 0xd00 && e.offset <= 0xd0c))
      .map((e) => (e.op === 'delay' ? 'delay' : `${e.op} 0x${e.offset.toString(16)}`));
    const kill = debug.slice(0, debug.indexOf('write 0xd04') + 1);
    expect(kill).toEqual([
      'read 0xd00',
      'delay',
      'read 0xd00',
      'delay',
      'read 0xd00',
      'delay',
      'read 0xd00',
      'write 0xd08',
      'write 0xd0c',
      'write 0xd04',
    ]);
    expect(model.read(0xd08, 4)).toBe(0); // cleared at the end, so the kill was taken
    expect(model.dmaActive()).toBe(false);
  });

  it('the pre-2019 order (DBGINST0/1 written while DBGSTATUS is busy, wait, DBGCMD) re-executes the DMAGO the unit was busy with', () => {
    // pl330.c _execute_DBGINSN before "Make sure the debug is idle before doing DMAGO": the busy
    // unit drops the DMAKILL in DBGINST0/1 and DBGCMD runs the stale DMAGO again.
    const sandbox = dmaSandbox();
    const model = new Pl330Model({ dma: sandbox.dma, debugBusyMicroseconds: 3 });
    sandbox.writeIova(SANDBOX_IOVA, assemblePl330([{ op: 'WFP', peripheral: 0 }, { op: 'END' }]));
    pl330DebugGo(model, 3, SANDBOX_IOVA);
    const error = thrown(() => pl330ResetWithout('debug-idle-first')(modelTarget(model, device)));
    // Channel 3 is never killed: the reset sees it still waiting and gives up.
    expect(isKernelError(error, 'ETIMEDOUT')).toBe(true);
    expect((error as Error).message).toContain('channel 3');
    expect(() => pl330Reset(modelTarget(model, device))).not.toThrow();
    expect(model.dmaActive()).toBe(false);
  });

  it('a peripheral request after the reset does not resume the killed DMAWFP thread', () => {
    const { model, sandbox } = busyPl330();
    pl330Reset(modelTarget(model, device));
    sandbox.dma.resetCount();
    model.peripheralRequest(1);
    model.tick(100);
    expect(sandbox.dma.accesses).toBe(0);
  });

  it('refuses a device that is not a PL330 (ENODEV) before touching it', () => {
    const xgmac = new CalxedaXgmacModel({ dma: dmaSandbox().dma });
    const { target, log } = recordTarget(modelTarget(xgmac, device));
    expect(
      isKernelError(
        thrown(() => pl330Reset(target)),
        'ENODEV',
      ),
    ).toBe(true);
    expect(log.every((e) => e.op === 'read')).toBe(true);
  });

  it('fails with ETIMEDOUT naming the thread when a kill never drains', () => {
    const { model } = busyPl330({ killMicroseconds: Number.POSITIVE_INFINITY });
    const error = thrown(() => pl330Reset(modelTarget(model, device)));
    expect(isKernelError(error, 'ETIMEDOUT')).toBe(true);
    expect((error as Error).message).toContain('channel 1');
  });
});
