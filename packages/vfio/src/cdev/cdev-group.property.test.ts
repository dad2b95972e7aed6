import { type EventFd, isKernelError, KernelError, physAddr } from '@vfiokit/core';
import { IommufdFile } from '@vfiokit/iommufd';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { countingDeviceOps, testIommuGroup } from '../testing/index.js';
import { VFIO_DEVICE_BIND_IOMMUFD } from '../uapi/ioctls.js';
import { UserAddressSpace } from '../user/address-space.js';
import type { VfioFile } from '../user/file.js';
import type { Task } from '../user/task.js';
import { Vfio } from '../vfio.js';
import type { VfioDeviceCdevFile } from './device-cdev-file.js';
import { openDeviceCdev } from './open-cdev.js';

// Random group opens/closes, cdev opens/binds/closes and iommufd closes, against the rules of
// drivers/vfio/group.c and device_cdev.c (Linux 6.12): no device is ever reachable by two
// users — the group file and a cdev bind exclude each other, one cdev bind per device, one
// DMA owner per IOMMU group — and once everything is closed, nothing holds the group.

class Proc implements Task {
  readonly pid = 1;
  readonly comm = 'p';
  readonly mm = { addressSpace: new UserAddressSpace(), lockedVm: 0 };
  readonly rlimitMemlock = 1 << 24;
  private readonly fds = new Map<number, VfioFile | EventFd>();
  private next = 3;
  capable(): boolean {
    return false;
  }
  install(file: VfioFile | EventFd): number {
    this.fds.set(this.next, file);
    return this.next++;
  }
  fdget(fd: number): VfioFile | EventFd {
    const f = this.fds.get(fd);
    if (f === undefined) throw new KernelError('EBADF', `fd ${fd}`);
    return f;
  }
  close(fd: number): void {
    const file = this.fds.get(fd);
    if (file !== undefined && 'release' in file) file.release();
    this.fds.delete(fd);
  }
}

type Step =
  | { readonly op: 'openGroup' }
  | { readonly op: 'closeGroup' }
  | { readonly op: 'closeIommufd' }
  | { readonly op: 'openCdev'; readonly slot: number }
  | { readonly op: 'bind'; readonly slot: number }
  | { readonly op: 'closeCdev'; readonly slot: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step>({ op: 'openGroup' }, { op: 'closeGroup' }, { op: 'closeIommufd' }),
  fc.record({
    op: fc.constantFrom('openCdev' as const, 'bind' as const, 'closeCdev' as const),
    slot: fc.nat(2),
  }),
);

function bindArg(fd: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, 16, true);
  v.setInt32(8, fd, true);
  return b;
}

describe('device cdev and group file (model-based)', () => {
  it('never lets the group file and a cdev bind, or two cdev binds, reach one device; closing everything frees the group', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const vfio = new Vfio({ allowUnsafeInterrupts: true, deviceCdev: true });
        const iommuGroup = testIommuGroup({ id: 3, devices: [{ name: 'dev' }] });
        vfio.registerGroupDevice({ name: 'dev', ops: countingDeviceOps(), iommuGroup });
        const proc = new Proc();
        proc.mm.addressSpace.mmap(0x10_0000, physAddr(0x8000_0000), 0x1000);
        const iommufd = new IommufdFile({
          task: {
            mm: proc.mm,
            user: { lockedVm: 0 },
            rlimitMemlock: proc.rlimitMemlock,
            capable: () => false,
          },
          allowUnsafeInterrupts: true,
        });
        let iommufdFd: number | null = proc.install(iommufd);
        let groupFd: number | null = null;
        const cdevs: ({ fd: number; file: VfioDeviceCdevFile; bound: boolean } | null)[] = [null, null, null];
        const tolerate = (work: () => void, errnos: readonly string[]): boolean => {
          try {
            work();
            return true;
          } catch (error) {
            if (isKernelError(error) && errnos.includes(error.code)) return false;
            throw error;
          }
        };
        for (const s of steps) {
          if (s.op === 'openGroup') {
            if (groupFd !== null) continue;
            const ok = tolerate(() => {
              groupFd = proc.install(vfio.openGroup(proc, '3', (f) => proc.install(f)));
            }, ['EBUSY']);
            const anyBound = cdevs.some((c) => c?.bound === true);
            if (ok === anyBound) throw new Error(`group open ok=${ok} while a cdev bound=${anyBound}`);
          } else if (s.op === 'closeGroup') {
            if (groupFd === null) continue;
            proc.close(groupFd);
            groupFd = null;
          } else if (s.op === 'closeIommufd') {
            if (iommufdFd === null) continue;
            proc.close(iommufdFd);
            iommufdFd = null;
          } else if (s.op === 'openCdev') {
            if (cdevs[s.slot] !== null) continue;
            const file = openDeviceCdev(vfio, 'vfio0');
            cdevs[s.slot] = { fd: proc.install(file), file, bound: false };
          } else if (s.op === 'bind') {
            const c = cdevs[s.slot];
            if (c === null || c === undefined) continue;
            const ok = tolerate(
              () => void c.file.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd ?? 99)),
              ['EBUSY', 'EINVAL', 'EBADF'],
            );
            const expected =
              !c.bound && groupFd === null && iommufdFd !== null && !cdevs.some((o) => o?.bound === true);
            if (ok !== expected) throw new Error(`bind slot ${s.slot}: ok=${ok}, model ${expected}`);
            if (ok) c.bound = true;
          } else {
            const c = cdevs[s.slot];
            if (c === null || c === undefined) continue;
            proc.close(c.fd);
            cdevs[s.slot] = null;
          }
          const bound = cdevs.filter((c) => c?.bound === true).length;
          if (bound > 1) throw new Error('two cdev files bound one device');
          if (bound === 1 && iommuGroup.owner === null)
            throw new Error('a bound device whose group has no DMA owner');
        }
        for (const c of cdevs) if (c !== null) proc.close(c.fd);
        if (groupFd !== null) proc.close(groupFd);
        if (iommufdFd !== null) proc.close(iommufdFd);
        if (iommuGroup.owner !== null) throw new Error('the IOMMU group is still owned after every close');
        if (!iommufd.iommufd.released) throw new Error('the iommufd context outlived every user');
      }),
      { numRuns: 300 },
    );
  });
});
