import { VFIO_DEVICE_SET_IRQS } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { vfioPl031 } from '../test-support.js';

const DATA_EVENTFD = 1 << 2;
const ACTION_UNMASK = 1 << 4;
const ACTION_TRIGGER = 1 << 5;

// vfio_irq_set { argsz 24, flags, index 0, start 0, count 1, fd }
function setIrqsEventfd(action: number, efd: number): Uint8Array {
  const set = new Uint8Array(24);
  const view = new DataView(set.buffer);
  for (const [i, v] of [24, DATA_EVENTFD | action, 0, 0, 1].entries()) view.setUint32(4 * i, v, true);
  view.setInt32(20, efd, true);
  return set;
}

const word = (value: number) => new Uint8Array(new Uint32Array([value >>> 0]).buffer);

// The PL031 alarm raised and left raised (RTCINTR stays high until RTCICR is written): the
// vfio level handler masks the line and signals TRIGGER once.
async function alarmLeftRaised() {
  const { host, proc, device } = await vfioPl031();
  const trigger = proc.eventfd();
  const unmask = proc.eventfd();
  proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqsEventfd(ACTION_TRIGGER, trigger));
  proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqsEventfd(ACTION_UNMASK, unmask));
  proc.pwrite(device, word(1), 0x10); // IMSC
  const count = new Uint8Array(4);
  proc.pread(device, count, 0x00);
  proc.pwrite(device, word(new DataView(count.buffer).getUint32(0, true) + 1), 0x04); // MR
  host.advanceTime(2000);
  expect(proc.eventfdOf(trigger).read()).toBe(1n);
  return { host, proc, device, trigger, unmask };
}

describe('unmasking a still-asserted level IRQ through the UNMASK eventfd (drivers/vfio/virqfd.c)', () => {
  // virqfd_wakeup runs vfio_platform_unmask_handler → enable_irq inside the eventfd wakeup;
  // __enable_irq/check_irq_resend (kernel/irq/manage.c, resend.c) leave the still-active
  // level line to the hardware, taken once the write(2) has returned — outside in_eventfd
  // (fs/eventfd.c), so TRIGGER's eventfd_signal is not dropped.
  it('write(2) of 1 to the UNMASK eventfd re-delivers: TRIGGER is signalled exactly once more, no EventFd warning', async () => {
    const { proc, trigger, unmask } = await alarmLeftRaised();
    proc.eventfdOf(unmask).write(1n);
    expect(proc.eventfdOf(trigger).read()).toBe(1n);
    expect(proc.eventfdOf(trigger).readable).toBe(false);
    expect(proc.eventfdOf(trigger).warnings).toEqual([]);
    expect(proc.eventfdOf(unmask).warnings).toEqual([]);
  });

  it('the same through the eventfdWrite system call, which returns 8', async () => {
    const { proc, trigger, unmask } = await alarmLeftRaised();
    expect(proc.eventfdWrite(unmask, 1n)).toBe(8);
    expect(proc.eventfdOf(trigger).read()).toBe(1n);
    expect(proc.eventfdOf(trigger).readable).toBe(false);
    expect(proc.eventfdOf(trigger).warnings).toEqual([]);
  });

  it('once the RTC interrupt is cleared (RTCICR), an unmask delivers nothing more', async () => {
    const { proc, device, trigger, unmask } = await alarmLeftRaised();
    proc.pwrite(device, word(1), 0x1c); // ICR
    proc.eventfdOf(unmask).write(1n);
    expect(proc.eventfdOf(trigger).readable).toBe(false);
    expect(proc.eventfdOf(trigger).warnings).toEqual([]);
  });
});
