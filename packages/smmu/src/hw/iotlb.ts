/** One cached translation: a page or block of one context, with the permissions it grants. */
export interface IotlbEntry {
  readonly iovaBase: number;
  readonly size: number;
  readonly outputBase: number;
  /** PERM_* bits (table-walker.ts). */
  readonly perms: number;
  /** The ASID or VMID the entry was filled under, for invalidation by tag. */
  readonly asid: number;
  readonly vmid: number;
  /** Stage 1 (tagged by ASID within its VMID) or stage 2 only (tagged by VMID). */
  readonly stage: 1 | 2;
}

/** The IOTLB context of a VMID and (stage 1) ASID: stage-2-only entries have no ASID. */
export function iotlbTag(vmid: number, stage: 1 | 2, asid: number): number {
  return vmid * 0x2_0000 + (stage === 1 ? asid : 0x1_0000);
}

// Keys: log2(size) * 2^40 + (iova / size), exact below 2^53 for sizes up to 2^30 and
// inputs below 2^52.
const SIZE_SCALE = 2 ** 40;

/**
 * An SMMU's IOTLB: translations cached per translation context (an SMMUv2 context bank's
 * VMID/ASID, an SMMUv3 STE/CD's VMID/ASID), filled by table walks and removed only by
 * invalidation (TLBI registers, CMD_TLBI_* commands) or `invalidateAll`, never by the page
 * tables changing under it. A lookup is one `Map.get` for the smallest size in use and
 * allocates nothing. Capacity is unbounded: every entry stays until invalidated, the
 * worst case for a driver that forgets a TLBI.
 */
export class Iotlb {
  private readonly contexts = new Map<number, Map<number, IotlbEntry>>();
  // Sizes (log2) cached per context, ascending: a lookup tries each in turn.
  private readonly sizes = new Map<number, number[]>();
  private lastContext = -1;
  private lastMap: Map<number, IotlbEntry> | undefined;
  private lastSizes: number[] = [];
  private hitCount = 0;
  private missCount = 0;

  /** Lookups that hit since creation. */
  get hits(): number {
    return this.hitCount;
  }

  get misses(): number {
    return this.missCount;
  }

  /** Entries cached, over every context. */
  get size(): number {
    let n = 0;
    for (const map of this.contexts.values()) n += map.size;
    return n;
  }

  /** The entry of `context` covering `iova`, or undefined. */
  lookup(context: number, iova: number): IotlbEntry | undefined {
    if (context !== this.lastContext) {
      this.lastContext = context;
      this.lastMap = this.contexts.get(context);
      this.lastSizes = this.sizes.get(context) ?? [];
    }
    const map = this.lastMap;
    if (map !== undefined) {
      const sizes = this.lastSizes;
      for (let i = 0; i < sizes.length; i++) {
        const bits = sizes[i] ?? 12;
        const entry = map.get(bits * SIZE_SCALE + Math.floor(iova / 2 ** bits));
        if (entry !== undefined) {
          this.hitCount++;
          return entry;
        }
      }
    }
    this.missCount++;
    return undefined;
  }

  insert(context: number, entry: IotlbEntry): void {
    let map = this.contexts.get(context);
    if (map === undefined) {
      map = new Map();
      this.contexts.set(context, map);
      this.sizes.set(context, []);
    }
    const bits = Math.log2(entry.size);
    const sizes = this.sizes.get(context) ?? [];
    if (!sizes.includes(bits)) {
      sizes.push(bits);
      sizes.sort((a, b) => a - b);
      this.sizes.set(context, sizes);
    }
    map.set(bits * SIZE_SCALE + entry.iovaBase / entry.size, entry);
    this.lastContext = -1;
  }

  /** Removes the entries for which `match` holds (TLBI by ASID, VMID, VA). */
  invalidate(match: (entry: IotlbEntry) => boolean): number {
    let removed = 0;
    for (const map of this.contexts.values()) {
      for (const [key, entry] of map) {
        if (match(entry)) {
          map.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  /** Removes entries that cover `iova` and match `tag` (TLBI by VA: one lookup per size). */
  invalidateVa(iova: number, match: (entry: IotlbEntry) => boolean): number {
    let removed = 0;
    for (const [context, map] of this.contexts) {
      for (const bits of this.sizes.get(context) ?? []) {
        const key = bits * SIZE_SCALE + Math.floor(iova / 2 ** bits);
        const entry = map.get(key);
        if (entry !== undefined && match(entry)) {
          map.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  invalidateAll(): void {
    this.contexts.clear();
    this.sizes.clear();
    this.lastContext = -1;
  }
}
