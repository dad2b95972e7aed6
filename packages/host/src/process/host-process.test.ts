import { VFIO_DEVICE_SET_IRQS, VFIO_GROUP_GET_DEVICE_FD } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf, vfioPl031, virtDtb } from '../test-support.js';

function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  return new Promise((resolve) => setImmediate(() => resolve(done)));
}

describe('HostProcess', () => {
  it('an unbind waits for every holder of the device file: the fd, a fork, a mapping', async () => {
    const { host, proc, device } = await vfioPl031();
    const mapping = proc.mmapShared(device, 0, 0x1000);
    const child = proc.fork();
    const unbind = host.fs.write('/sys/bus/amba/drivers/vfio-amba/unbind', '9010000.pl031');
    expect(unbind).toBeInstanceOf(Promise);
    const done = unbind as Promise<number>;
    proc.close(device);
    expect(await settled(done)).toBe(false);
    child.exit();
    expect(await settled(done)).toBe(false);
    expect(proc.peek32(mapping, 0xfe0)).toBe(0x31);
    proc.munmap(mapping);
    expect(await settled(done)).toBe(true);
    expect(await done).toBe(13);
    expect(errnoOf(() => proc.peek32(mapping, 0xfe0))).toBe('EFAULT');
  });

  it('GET_DEVICE_FD from a forked child installs the fd in the child (current)', async () => {
    const { proc, group } = await vfioPl031();
    const child = proc.fork();
    const before = proc.openFds.length;
    const fd = child.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode('9010000.pl031\0'));
    expect(child.openFds).toContain(fd);
    expect(proc.openFds.length).toBe(before);
  });

  it('EBADF for fds that are not open; ENOENT for a group node that does not exist', () => {
    const host = createHost(virtDtb());
    const proc = host.spawn();
    expect(errnoOf(() => proc.close(3))).toBe('EBADF');
    expect(errnoOf(() => proc.ioctl(-1, 0))).toBe('EBADF');
    expect(errnoOf(() => proc.open('/dev/vfio/0'))).toBe('ENOENT');
    expect(errnoOf(() => host.spawn({ pid: 3 } as never))).toBe('EINVAL');
  });

  it('the RTC alarm reaches a VFIO trigger eventfd as model time passes', async () => {
    const { host, proc, device } = await vfioPl031();
    const efd = proc.eventfd();
    const set = new Uint8Array(24);
    const view = new DataView(set.buffer);
    // vfio_irq_set { argsz 24, DATA_EVENTFD|ACTION_TRIGGER, index 0, start 0, count 1, fd }
    for (const [i, v] of [24, (1 << 2) | (1 << 5), 0, 0, 1].entries()) view.setUint32(4 * i, v, true);
    view.setInt32(20, efd, true);
    proc.ioctl(device, VFIO_DEVICE_SET_IRQS, set);
    const word = (value: number) => Uint8Array.of(value & 0xff, (value >> 8) & 0xff, 0, 0);
    proc.pwrite(device, word(1), 0x10); // IMSC
    const count = new Uint8Array(4);
    proc.pread(device, count, 0x00);
    const now = new DataView(count.buffer).getUint32(0, true);
    proc.pwrite(device, Uint8Array.of(...new Uint8Array(new Uint32Array([now + 2]).buffer)), 0x04); // MR
    host.advanceTime(1000);
    expect(proc.eventfdOf(efd).readable).toBe(false);
    host.advanceTime(2000);
    expect(proc.eventfdOf(efd).read()).toBe(1n);
  });
});
