import { describe, expect, it } from 'vitest';
import { errno } from '../testing/errno.js';
import { compareLevelIrqStrategies, runLevelIrqStrategy } from './strategies.js';

const bursty = { events: [0, 1, 2, 30, 31, 60, 100, 101, 102, 103, 150] };

describe('level IRQ without resamplefd: the workarounds of seed 003 / QEMU, compared', () => {
  it('resamplefd: nothing lost or duplicated, no trapped MMIO, no VMM ioctl on the path', () => {
    expect(runLevelIrqStrategy('resamplefd', bursty)).toMatchObject({
      serviced: 11,
      lost: 0,
      duplicated: 0,
      extraExits: 0,
      vmmIoctls: 0,
    });
  });

  it('mmio-trap-unmask: every handler access traps and the first (status read) unmasks too early → duplicates', () => {
    const r = runLevelIrqStrategy('mmio-trap-unmask', bursty);
    expect(r.lost).toBe(0);
    expect(r.extraExits).toBeGreaterThan(0);
    expect(r.duplicated).toBeGreaterThan(0);
    expect(r.vmmIoctls).toBeGreaterThan(0);
  });

  it('periodic-unmask: the VMM holds the line until the timer (the guest re-takes it: duplicates); a shorter period trades them for ioctls', () => {
    const slow = runLevelIrqStrategy('periodic-unmask', { ...bursty, periodTicks: 25 });
    const fast = runLevelIrqStrategy('periodic-unmask', { ...bursty, periodTicks: 2 });
    expect([slow.lost, fast.lost]).toEqual([0, 0]);
    expect(slow.duplicated).toBeGreaterThan(fast.duplicated);
    expect(fast.vmmIoctls).toBeGreaterThan(slow.vmmIoctls);
    expect(slow.extraExits).toBe(0);
  });

  it('compareLevelIrqStrategies runs all three on one scenario; bad options → EINVAL', () => {
    expect(compareLevelIrqStrategies(bursty).map((r) => r.strategy)).toEqual([
      'resamplefd',
      'periodic-unmask',
      'mmio-trap-unmask',
    ]);
    expect(errno(() => runLevelIrqStrategy('resamplefd', { events: [], bogus: 1 } as never))).toBe('EINVAL');
    expect(errno(() => runLevelIrqStrategy('nope' as never, bursty))).toBe('EINVAL');
  });
});
