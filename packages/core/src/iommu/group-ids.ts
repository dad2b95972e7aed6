import { KernelError } from '../kernel-error.js';

/**
 * The id space of IOMMU groups (`iommu_group_ida` in drivers/iommu/iommu.c): one IDA shared by
 * the IOMMU drivers' groups and the fake groups VFIO allocates for no-IOMMU and emulated
 * devices (`vfio_noiommu_group_alloc` → `iommu_group_alloc`). A host that also creates real
 * groups injects one allocator into both, so ids come out as on the kernel.
 */
export interface IommuGroupIds {
  /** `ida_alloc`: the lowest free id. */
  alloc(): number;
  /** `ida_free`. */
  free(id: number): void;
  /** Marks an id as taken by a group created elsewhere; `EEXIST` when it is taken already. */
  reserve(id: number): void;
  /** Whether `id` is allocated. */
  has(id: number): boolean;
}

/** An IDA: lowest free non-negative id first, as `ida_alloc` hands them out. */
export class IommuGroupIda implements IommuGroupIds {
  private readonly used = new Set<number>();

  alloc(): number {
    let id = 0;
    while (this.used.has(id)) id++;
    this.used.add(id);
    return id;
  }

  free(id: number): void {
    if (!this.used.delete(id)) throw new KernelError('EINVAL', `IOMMU group id ${id} is not allocated`);
  }

  reserve(id: number): void {
    if (!Number.isSafeInteger(id) || id < 0) throw new KernelError('EINVAL', `IOMMU group id ${id}`);
    if (this.used.has(id)) throw new KernelError('EEXIST', `IOMMU group id ${id} is taken`);
    this.used.add(id);
  }

  has(id: number): boolean {
    return this.used.has(id);
  }
}
