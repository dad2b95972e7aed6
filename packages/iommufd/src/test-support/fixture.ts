import { IommuGroup, type IommuReservedRegion, KernelError, type PhysAddr } from '@vfiokit/core';
import { FlatIommuDomain } from '@vfiokit/core/testing';
import { IommufdContext } from '../context.js';
import type { IommufdCapability, IommufdTask, IommufdUserChunk, IommufdUserMemory } from '../task.js';

/** A user address space of page-aligned anonymous (or PFNMAP / read-only) ranges. */
export class TestUserMemory implements IommufdUserMemory {
  private readonly maps: {
    vaddr: number;
    size: number;
    paddr: number;
    pfnmap: boolean;
    writable: boolean;
  }[] = [];

  map(vaddr: number, paddr: number, size: number, kind: { pfnmap?: boolean; writable?: boolean } = {}): this {
    this.maps.push({ vaddr, size, paddr, pfnmap: kind.pfnmap ?? false, writable: kind.writable ?? true });
    return this;
  }

  resolve(vaddr: number, size: number): IommufdUserChunk[] {
    const out: IommufdUserChunk[] = [];
    let cursor = vaddr;
    while (cursor < vaddr + size) {
      const m = this.maps.find((x) => x.vaddr <= cursor && cursor < x.vaddr + x.size);
      if (m === undefined) throw new KernelError('EFAULT', `0x${cursor.toString(16)} is not mapped`);
      const stop = Math.min(vaddr + size, m.vaddr + m.size);
      out.push({
        paddr: (m.paddr + cursor - m.vaddr) as PhysAddr,
        size: stop - cursor,
        pfnmap: m.pfnmap,
        writable: m.writable,
      });
      cursor = stop;
    }
    return out;
  }
}

export interface TestTaskOptions {
  readonly rlimitMemlock?: number;
  readonly caps?: readonly IommufdCapability[];
  readonly memory?: TestUserMemory;
}

export function testTask(options: TestTaskOptions = {}): IommufdTask & { readonly memory: TestUserMemory } {
  const memory = options.memory ?? new TestUserMemory().map(0x10_0000, 0x8000_0000, 0x100_0000);
  const caps = new Set(options.caps ?? []);
  const written: { vaddr: number; bytes: Uint8Array }[] = [];
  return {
    memory,
    mm: { addressSpace: memory, lockedVm: 0, pinnedVm: 0 },
    user: { lockedVm: 0 },
    rlimitMemlock: options.rlimitMemlock ?? 64 * 1024 * 1024,
    capable: (cap) => caps.has(cap),
    copyToUser: (vaddr, bytes) => {
      memory.resolve(vaddr, bytes.length);
      written.push({ vaddr, bytes });
    },
  };
}

export interface TestGroupOptions {
  readonly id?: number;
  readonly devices?: readonly string[];
  readonly reservedRegions?: readonly IommuReservedRegion[];
  readonly pgsizeBitmap?: number;
  readonly inputBits?: number;
  readonly cacheCoherent?: boolean;
}

/** An IOMMU group of `devices` whose paging domains are FlatIommuDomains (recorded in `domains`). */
export function testGroup(
  options: TestGroupOptions = {},
): IommuGroup & { readonly domains: FlatIommuDomain[] } {
  const domains: FlatIommuDomain[] = [];
  const group = new IommuGroup({
    id: options.id ?? 0,
    allocateDomain: () => {
      const d = new FlatIommuDomain({
        pgsizeBitmap: options.pgsizeBitmap ?? 0x4020_1000,
        inputBits: options.inputBits ?? 48,
      });
      domains.push(d);
      return d;
    },
    reservedRegions: () => options.reservedRegions ?? [],
    cacheCoherent: () => options.cacheCoherent ?? true,
  });
  for (const [i, device] of (options.devices ?? ['dev0']).entries())
    group.addDevice({ device, streamIds: [i] });
  return Object.assign(group, { domains });
}

export function testContext(task: IommufdTask = testTask()): IommufdContext {
  return new IommufdContext({ task, allowUnsafeInterrupts: true });
}
