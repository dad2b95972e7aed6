import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  LEVEL_IRQ,
  type OpenedPlatformFixture,
  openedPlatformFixture,
} from '../test-support/platform-fixture.js';
import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
} from '../uapi/flags.js';
import { VFIO_DEVICE_SET_IRQS } from '../uapi/ioctls.js';
import { vfioIrqSet } from '../uapi/structs-irq.js';

// The MASK/UNMASK eventfds of vfio_platform_set_irq_mask / _unmask
// (drivers/vfio/platform/vfio_platform_irq.c) are virqfds (drivers/vfio/virqfd.c).

function levelTriggered(f: OpenedPlatformFixture): () => bigint {
  const fd = f.process.eventfd();
  f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, eventfds: [fd] });
  const eventfd = f.process.eventfdOf(fd);
  return () => eventfd.count;
}

describe('MASK / UNMASK eventfds (vfio_virqfd_enable, virqfd_wakeup)', () => {
  it('a MASK eventfd masks the line when signalled; it has its own slot beside the UNMASK one', () => {
    const f = openedPlatformFixture();
    const count = levelTriggered(f);
    const mask = f.process.eventfd();
    f.handle.setIrqs({ action: 'mask', index: 0, eventfds: [mask] });
    // The UNMASK slot is still free (vdev->irqs[index].mask and .unmask are two pointers).
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [f.process.eventfd()] });
    expect(
      thrownErrno(() => f.handle.setIrqs({ action: 'mask', index: 0, eventfds: [f.process.eventfd()] })),
    ).toBe('EBUSY');
    f.process.eventfdOf(mask).write(1);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(count()).toBe(0n);
    // fd -1 tears the MASK virqfd down (vfio_virqfd_disable): later signals do nothing.
    f.handle.setIrqs({ action: 'mask', index: 0, eventfds: [null] });
    f.handle.unmaskIrq(0);
    expect(count()).toBe(1n);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    f.handle.unmaskIrq(0);
    f.process.eventfdOf(mask).write(1);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('an eventfd already signalled when it becomes the UNMASK eventfd unmasks at once', () => {
    // vfio_virqfd_enable: "Check if there was an event already pending on the eventfd before
    // we registered and trigger it as if we didn't miss it."
    const f = openedPlatformFixture();
    levelTriggered(f);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    const resample = f.process.eventfd();
    f.process.eventfdOf(resample).write(1);
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [resample] });
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('an eventfd not yet signalled does not unmask at registration', () => {
    const f = openedPlatformFixture();
    const count = levelTriggered(f);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(count()).toBe(1n);
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [f.process.eventfd()] });
    // No unmask: the still-asserted line is not taken again.
    expect(count()).toBe(1n);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
  });

  it('closing the eventfd (EPOLLHUP) frees the slot: a new UNMASK eventfd is accepted', () => {
    // virqfd_wakeup on EPOLLHUP clears *pvirqfd, so vfio_virqfd_enable no longer sees EBUSY.
    const f = openedPlatformFixture();
    levelTriggered(f);
    const first = f.process.eventfd();
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [first] });
    f.process.close(first);
    const second = f.process.eventfd();
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [second] });
    f.irqChip.setLevel(LEVEL_IRQ, true);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    f.process.eventfdOf(second).write(1);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('closing the device fd disables both virqfds (vfio_platform_irq_cleanup): later signals leave the line alone', () => {
    const f = openedPlatformFixture();
    levelTriggered(f);
    const mask = f.process.eventfd();
    const unmask = f.process.eventfd();
    f.handle.setIrqs({ action: 'mask', index: 0, eventfds: [mask] });
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [unmask] });
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    f.handle.close();
    expect(f.irqChip.hasHandler(LEVEL_IRQ)).toBe(false);
    f.process.eventfdOf(unmask).write(1);
    f.process.eventfdOf(mask).write(1);
    // free_irq left the line disabled once; no virqfd touched it afterwards.
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
  });
});

describe('SET_IRQS start boundary (vfio_set_irqs_validate_and_prepare)', () => {
  it('start = num_irqs is EINVAL even with count 0 (DATA_NONE TRIGGER)', () => {
    const f = openedPlatformFixture();
    const bytes = vfioIrqSet.encode({
      argsz: 20,
      flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 0,
      start: 2,
      count: 0,
    });
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_SET_IRQS, bytes))).toBe('EINVAL');
    bytes.set(
      vfioIrqSet.encode({
        argsz: 20,
        flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: 0,
        start: 1,
        count: 0,
      }),
    );
    expect(f.process.ioctl(f.handle.fd, VFIO_DEVICE_SET_IRQS, bytes)).toBe(0);
  });
});

describe('start / count of each action (vfio_platform_set_irq_mask, _unmask, _trigger)', () => {
  // Each passes vfio_set_irqs_validate_and_prepare on a two-IRQ device; the action refuses it.
  function setIrqs(f: OpenedPlatformFixture, flags: number, start: number, count: number, payload = 0) {
    const bytes = new Uint8Array(20 + payload);
    vfioIrqSet.encode({ argsz: 20 + payload, flags, index: 0, start, count }, bytes);
    if (payload === 4) new DataView(bytes.buffer).setInt32(20, f.process.eventfd(), true);
    return thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_SET_IRQS, bytes));
  }

  it('MASK and UNMASK take start 0, count 1 only: EINVAL for count 0 or 2 and for start 1, the line untouched', () => {
    const f = openedPlatformFixture();
    for (const action of [VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK]) {
      expect(setIrqs(f, VFIO_IRQ_SET_DATA_NONE | action, 0, 0)).toBe('EINVAL');
      expect(setIrqs(f, VFIO_IRQ_SET_DATA_NONE | action, 0, 2)).toBe('EINVAL');
      expect(setIrqs(f, VFIO_IRQ_SET_DATA_NONE | action, 1, 1)).toBe('EINVAL');
    }
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    expect(setIrqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 1)).toBeUndefined();
  });

  it('TRIGGER count 0 tears down only with DATA_NONE; count 0 EVENTFD/BOOL and count 2 are EINVAL', () => {
    const f = openedPlatformFixture();
    const count = levelTriggered(f);
    expect(setIrqs(f, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0)).toBe('EINVAL');
    expect(setIrqs(f, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0)).toBe('EINVAL');
    expect(setIrqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2)).toBe('EINVAL');
    // The trigger is still in place.
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(count()).toBe(1n);
  });

  it('UNMASK eventfd -1 with no virqfd set is a no-op (vfio_virqfd_disable of a NULL slot)', () => {
    const f = openedPlatformFixture();
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [null] });
    f.handle.setIrqs({ action: 'mask', index: 0, eventfds: [null] });
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
  });
});
