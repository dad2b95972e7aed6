import { describe, expect, it } from 'vitest';
import { isKernelError } from './kernel-error.js';
import { ImmediateScheduler, ManualScheduler } from './scheduler.js';

describe('ImmediateScheduler', () => {
  it('runs a task before schedule() returns, and nested tasks after the current one, FIFO', () => {
    const scheduler = new ImmediateScheduler();
    const order: string[] = [];
    scheduler.schedule('outer', () => {
      order.push('outer:start');
      scheduler.schedule('inner-1', () => order.push('inner-1'));
      scheduler.schedule('inner-2', () => order.push('inner-2'));
      order.push('outer:end');
    });
    expect(order).toEqual(['outer:start', 'outer:end', 'inner-1', 'inner-2']);
  });

  it('stays usable after a task throws', () => {
    const scheduler = new ImmediateScheduler();
    expect(() =>
      scheduler.schedule('boom', () => {
        throw new RangeError('boom');
      }),
    ).toThrow('boom');
    let ran = false;
    scheduler.schedule('after', () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});

describe('ManualScheduler', () => {
  it('runs nothing until told, then the task picked by index (modulo the queue)', () => {
    const scheduler = new ManualScheduler();
    const order: string[] = [];
    for (const label of ['a', 'b', 'c']) scheduler.schedule(label, () => order.push(label));
    expect(order).toEqual([]);
    expect(scheduler.pending.map((task) => task.label)).toEqual(['a', 'b', 'c']);
    expect(scheduler.run(4)).toBe('b');
    expect(scheduler.run(-1)).toBe('c');
    expect(scheduler.runAll()).toBe(1);
    expect(order).toEqual(['b', 'c', 'a']);
    expect(scheduler.trace).toEqual(['b', 'c', 'a']);
    expect(scheduler.runNext()).toBe(false);
  });

  it('fails ENOENT when asked to run with nothing pending', () => {
    const scheduler = new ManualScheduler();
    try {
      scheduler.run(0);
      expect.unreachable();
    } catch (error) {
      expect(isKernelError(error, 'ENOENT')).toBe(true);
    }
  });

  it('reports a livelock (a task that always reschedules itself) as ETIMEDOUT', () => {
    const scheduler = new ManualScheduler();
    const again = (): void => scheduler.schedule('again', again);
    again();
    expect(() => scheduler.runAll(50)).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
  });
});
