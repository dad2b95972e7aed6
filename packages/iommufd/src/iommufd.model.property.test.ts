import { type Iova, isKernelError } from '@vfiokit/core';
import { FlatIommuDomain } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IommufdContext } from './context.js';
import type { IommufdAccess } from './device/access.js';
import type { IommufdDevice } from './device/device.js';
import { IoptPages } from './ioas/pages.js';
import { testGroup, testTask } from './test-support/fixture.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
} from './uapi/constants.js';

// A model-based suite: random IOAS maps/unmaps, device attaches/detaches, access pins and a
// second context racing for the same groups, against a simplified model (per IOAS: areas of
// whole pages). After every step:
// - no DMA outside an IOAS mapping: every attached group's domain translates a page iff the
//   IOAS maps it, to the user page behind it, with its permissions;
// - accounting is exact: user->locked_vm is the number of distinct pinned pages;
// - no device is reachable by two users: the other context can never bind a group we own;
// and at the end, after close, unbind and destroy, every pin is released.

const PAGE = 0x1000;
const USER_BASE = 0x10_0000; // testTask maps 16 MiB of user memory here, at 0x8000_0000
const PHYS_BASE = 0x8000_0000;
const IOVA_BASE = 0x100_0000;

interface ModelArea {
  readonly page: number; // first IOVA page index (from IOVA_BASE)
  readonly npages: number;
  readonly upage: number; // first user page index (from USER_BASE)
  readonly write: boolean;
}

type Cmd =
  | {
      readonly op: 'map';
      readonly ioas: number;
      readonly page: number;
      readonly npages: number;
      readonly upage: number;
      readonly write: boolean;
    }
  | { readonly op: 'unmap'; readonly ioas: number; readonly page: number; readonly npages: number }
  | { readonly op: 'unmapAll'; readonly ioas: number }
  | { readonly op: 'attach'; readonly dev: number; readonly ioas: number }
  | { readonly op: 'detach'; readonly dev: number }
  | { readonly op: 'pin'; readonly page: number; readonly npages: number }
  | { readonly op: 'steal'; readonly dev: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    op: fc.constant('map' as const),
    ioas: fc.nat(1),
    page: fc.nat(15),
    npages: fc.integer({ min: 1, max: 4 }),
    upage: fc.nat(60),
    write: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('unmap' as const),
    ioas: fc.nat(1),
    page: fc.nat(15),
    npages: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ op: fc.constant('unmapAll' as const), ioas: fc.nat(1) }),
  fc.record({ op: fc.constant('attach' as const), dev: fc.nat(1), ioas: fc.nat(1) }),
  fc.record({ op: fc.constant('detach' as const), dev: fc.nat(1) }),
  fc.record({ op: fc.constant('pin' as const), page: fc.nat(15), npages: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('steal' as const), dev: fc.nat(1) }),
);

const overlaps = (a: ModelArea, page: number, npages: number): boolean =>
  a.page < page + npages && page < a.page + a.npages;

/** Runs one command sequence; throws on the first broken invariant. */
function run(cmds: readonly Cmd[]): void {
  const task = testTask();
  const ctx = new IommufdContext({ task, allowUnsafeInterrupts: true });
  const rival = new IommufdContext({ task: testTask(), allowUnsafeInterrupts: true });
  const ioasIds = [ctx.ioasAlloc(), ctx.ioasAlloc()];
  const model: ModelArea[][] = [[], []];
  const groups = [testGroup({ id: 0, devices: ['g0'] }), testGroup({ id: 1, devices: ['g1'] })];
  const devs: IommufdDevice[] = groups.map((group) => ctx.deviceBind({ group, device: `g${group.id}` }));
  const attachedTo: (number | null)[] = [null, null];
  const pins: [bigint, bigint][] = [];
  let access: IommufdAccess | undefined;
  access = ctx.accessCreate({
    needsPinPages: true,
    unmap: (iova, length) => {
      for (const [at, len] of [...pins])
        if (at < iova + length && iova < at + len && access !== undefined) {
          ctx.accessUnpinPages(access, at, len);
          pins.splice(
            pins.findIndex(([a, l]) => a === at && l === len),
            1,
          );
        }
    },
  });
  ctx.accessAttach(access, ioasIds[0] as number);

  const expectErrno = (work: () => unknown, allowed: readonly string[]): boolean => {
    try {
      work();
      return true;
    } catch (error) {
      if (!isKernelError(error) || !allowed.includes(error.code)) throw error;
      return false;
    }
  };

  for (const c of cmds) {
    if (c.op === 'map') {
      const areas = model[c.ioas] as ModelArea[];
      const clash = areas.some((a) => overlaps(a, c.page, c.npages));
      const ok = expectErrno(
        () =>
          ctx.ioasMap({
            flags: R | FIXED | (c.write ? W : 0),
            ioas_id: ioasIds[c.ioas] as number,
            user_va: USER_BASE + c.upage * PAGE,
            length: c.npages * PAGE,
            iova: IOVA_BASE + c.page * PAGE,
          }),
        ['EEXIST'],
      );
      if (ok === clash)
        throw new Error(`map ${JSON.stringify(c)}: model says clash=${clash}, kernel ok=${ok}`);
      if (ok) areas.push({ page: c.page, npages: c.npages, upage: c.upage, write: c.write });
    } else if (c.op === 'unmap' || c.op === 'unmapAll') {
      const areas = model[c.ioas] as ModelArea[];
      const page = c.op === 'unmap' ? c.page : 0;
      const npages = c.op === 'unmap' ? c.npages : 1 << 30;
      const hit = areas.filter((a) => overlaps(a, page, npages)).sort((a, b) => a.page - b.page);
      const inside = (a: ModelArea): boolean => a.page >= page && a.page + a.npages <= page + npages;
      const bytes = (() => {
        try {
          return c.op === 'unmap'
            ? ctx.ioasUnmap({
                ioas_id: ioasIds[c.ioas] as number,
                iova: IOVA_BASE + page * PAGE,
                length: npages * PAGE,
              })
            : ctx.ioasUnmap({ ioas_id: ioasIds[c.ioas] as number, iova: 0, length: (1n << 64n) - 1n });
        } catch (error) {
          if (isKernelError(error, 'ENOENT')) return undefined;
          throw error;
        }
      })();
      // Areas go in IOVA order until one sticks out (ENOENT), as iopt_unmap_iova_range does.
      let gone = 0;
      for (const a of hit) {
        if (!inside(a)) break;
        areas.splice(areas.indexOf(a), 1);
        gone += a.npages;
      }
      const expectOk = hit.length > 0 && hit.every(inside);
      if (c.op === 'unmap' && (bytes !== undefined) !== expectOk)
        throw new Error(`unmap ${JSON.stringify(c)}: model ok=${expectOk}, kernel ${String(bytes)}`);
      if (bytes !== undefined && bytes !== BigInt(gone * PAGE))
        throw new Error(`unmapped ${bytes}, model ${gone * PAGE}`);
    } else if (c.op === 'attach') {
      const dev = devs[c.dev] as IommufdDevice;
      if (attachedTo[c.dev] !== null) continue;
      // An attach pins the IOAS's user pages; all of them are mapped, so it must succeed.
      ctx.deviceAttach(dev, ioasIds[c.ioas] as number);
      attachedTo[c.dev] = c.ioas;
    } else if (c.op === 'detach') {
      if (attachedTo[c.dev] === null) continue;
      ctx.deviceDetach(devs[c.dev] as IommufdDevice);
      attachedTo[c.dev] = null;
    } else if (c.op === 'pin') {
      const areas = model[0] as ModelArea[];
      let covered = true;
      for (let p = c.page; p < c.page + c.npages; p++) covered &&= areas.some((a) => overlaps(a, p, 1));
      const iova = BigInt(IOVA_BASE + c.page * PAGE);
      const len = BigInt(c.npages * PAGE);
      const ok = expectErrno(() => ctx.accessPinPages(access, iova, len, 0), ['ENOENT']);
      if (ok !== covered)
        throw new Error(`pin ${JSON.stringify(c)}: model covered=${covered}, kernel ok=${ok}`);
      if (ok) pins.push([iova, len]);
    } else {
      const stolen = expectErrno(
        () => rival.deviceBind({ group: groups[c.dev] ?? null, device: `g${c.dev}` }),
        ['EPERM'],
      );
      if (stolen) throw new Error(`group ${c.dev} was bound by a second context`);
    }
    checkInvariants();
  }

  function checkInvariants(): void {
    for (const [d, ioas] of attachedTo.entries()) {
      if (ioas === null) continue;
      const domain = groups[d]?.currentDomain;
      if (domain === undefined || domain.type === 'blocked')
        throw new Error(`group ${d} is not on a paging domain`);
      for (let p = 0; p < 24; p++) {
        const area = (model[ioas] as ModelArea[]).find((a) => overlaps(a, p, 1));
        const at = (IOVA_BASE + p * PAGE + 8) as Iova;
        const read = domain.translate(at, 'read');
        const write = domain.translate(at, 'write');
        if (area === undefined) {
          if (typeof read === 'number')
            throw new Error(`DMA reaches unmapped IOVA page ${p} of IOAS ${ioas}`);
          continue;
        }
        const expected = PHYS_BASE + (area.upage + p - area.page) * PAGE + 8;
        if (read !== expected) throw new Error(`IOVA page ${p} reads ${String(read)}, model ${expected}`);
        if ((typeof write === 'number') !== area.write)
          throw new Error(`IOVA page ${p} write permission is wrong`);
      }
    }
    // Accounting: every IOMMU_IOAS_MAP has its own iopt_pages, so a page is pinned once per
    // area page held by a domain (the IOAS has an attached device) or by an access pin.
    const expected = modelPinned();
    if (ctx.pinnedPages() !== expected)
      throw new Error(`${ctx.pinnedPages()} pages pinned, model ${expected}`);
    if (task.user.lockedVm !== expected)
      throw new Error(`locked_vm ${task.user.lockedVm}, model ${expected}`);
  }

  function modelPinned(): number {
    let n = 0;
    for (const [ioas, areas] of model.entries())
      for (const a of areas)
        for (let k = 0; k < a.npages; k++) {
          const iova = BigInt(IOVA_BASE + (a.page + k) * PAGE);
          const byAccess = ioas === 0 && pins.some(([at, len]) => iova >= at && iova < at + len);
          if (attachedTo.includes(ioas) || byAccess) n++;
        }
    return n;
  }

  // Teardown: close the fd while devices and the access are still bound, then let them go.
  ctx.close();
  for (const [d, dev] of devs.entries()) {
    if (attachedTo[d] !== null) ctx.deviceDetach(dev);
    ctx.deviceUnbind(dev);
  }
  ctx.accessDestroy(access);
  if (!ctx.released || ctx.leaked.length !== 0) throw new Error('the context did not release every object');
  if (task.user.lockedVm !== 0 || task.mm.pinnedVm !== 0)
    throw new Error(
      `pins leaked after close: locked_vm ${task.user.lockedVm}, pinned_vm ${task.mm.pinnedVm}`,
    );
  for (const group of groups) if (group.owner !== null) throw new Error(`group ${group.id} is still owned`);
}

describe('iommufd model-based suite', () => {
  it('keeps DMA inside IOAS mappings, accounts exactly, never shares a group, and releases every pin at close', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => run(cmds)),
      { numRuns: 300 },
    );
  });

  it('fails on a planted bug: a domain whose unmap forgets its mappings lets DMA outlive IOMMU_IOAS_UNMAP', () => {
    const proto = FlatIommuDomain.prototype;
    const real = proto.unmap;
    proto.unmap = (_iova: Iova, size: number) => size;
    try {
      const out = fc.check(
        fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => run(cmds)),
        { numRuns: 300 },
      );
      expect(out.failed).toBe(true);
      expect(String(out.errorInstance)).toMatch(/DMA reaches unmapped|reads|pins leaked|write permission/);
    } finally {
      proto.unmap = real;
    }
  });

  it('fails on a planted bug: pages that are never uncharged leak past close', () => {
    const real = IoptPages.prototype.release;
    IoptPages.prototype.release = function (this: IoptPages, first: bigint, last: bigint): void {
      const before = this.task.user.lockedVm;
      real.call(this, first, last);
      this.task.user.lockedVm = before; // forget to uncharge
    };
    try {
      const out = fc.check(
        fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => run(cmds)),
        { numRuns: 300 },
      );
      expect(out.failed).toBe(true);
      expect(String(out.errorInstance)).toMatch(/locked_vm|pins leaked/);
    } finally {
      IoptPages.prototype.release = real;
    }
  });
});
