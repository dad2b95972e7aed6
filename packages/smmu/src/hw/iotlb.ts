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

// One context's entries: a Map per page/block size, keyed by iova / size (a small integer
// for most addresses, which V8 hashes fastest), smallest size first.
interface ContextEntries {
  readonly sizes: number[];
  readonly maps: Map<number, IotlbEntry>[];
}

/**
 * An SMMU's IOTLB: translations cached per translation context (an SMMUv2 context bank's
 * VMID/ASID, an SMMUv3 STE/CD's VMID/ASID), filled by table walks and removed only by
 * invalidation (TLBI registers, CMD_TLBI_* commands) or `invalidateAll`, never by the page
 * tables changing under it. A lookup is one `Map.get` for the smallest size in use and
 * allocates nothing. Capacity is unbounded: every entry stays until invalidated, the
 * worst case for a driver that forgets a TLBI.
 */
export class Iotlb {
  private readonly contexts = new Map<number, ContextEntries>();
  private lastContext = -1;
  private last: ContextEntries | undefined;
  private firstMap: Map<number, IotlbEntry> | undefined;
  private firstSize = 1;
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
    for (const context of this.contexts.values()) for (const map of context.maps) n += map.size;
    return n;
  }

  /** The entry of `context` covering `iova`, or undefined. */
  lookup(context: number, iova: number): IotlbEntry | undefined {
    if (context !== this.lastContext) {
      this.lastContext = context;
      this.last = this.contexts.get(context);
      const first = this.last?.maps[0];
      this.firstMap = first;
      this.firstSize = this.last?.sizes[0] ?? 1;
    }
    // The smallest size first, from fields: the common 4K hit is one Map.get.
    const first = this.firstMap;
    if (first !== undefined) {
      const entry = first.get(Math.floor(iova / this.firstSize));
      if (entry !== undefined) {
        this.hitCount++;
        return entry;
      }
      const entries = this.last;
      if (entries !== undefined) {
        for (let i = 1; i < entries.sizes.length; i++) {
          const found = entries.maps[i]?.get(Math.floor(iova / (entries.sizes[i] ?? 1)));
          if (found !== undefined) {
            this.hitCount++;
            return found;
          }
        }
      }
    }
    this.missCount++;
    return undefined;
  }

  insert(context: number, entry: IotlbEntry): void {
    let entries = this.contexts.get(context);
    if (entries === undefined) {
      entries = { sizes: [], maps: [] };
      this.contexts.set(context, entries);
    }
    let at = entries.sizes.indexOf(entry.size);
    if (at < 0) {
      at = entries.sizes.findIndex((size) => size > entry.size);
      if (at < 0) at = entries.sizes.length;
      entries.sizes.splice(at, 0, entry.size);
      entries.maps.splice(at, 0, new Map());
    }
    entries.maps[at]?.set(entry.iovaBase / entry.size, entry);
    this.lastContext = -1;
  }

  /** Removes the entries for which `match` holds (TLBI by ASID, VMID, range). */
  invalidate(match: (entry: IotlbEntry) => boolean): number {
    let removed = 0;
    for (const context of this.contexts.values()) {
      for (const map of context.maps) {
        for (const [key, entry] of map) {
          if (match(entry)) {
            map.delete(key);
            removed++;
          }
        }
      }
    }
    return removed;
  }

  /** Removes the entries covering `iova` for which `match` holds (TLBI by VA: one lookup per size). */
  invalidateVa(iova: number, match: (entry: IotlbEntry) => boolean): number {
    let removed = 0;
    for (const context of this.contexts.values()) {
      for (let i = 0; i < context.sizes.length; i++) {
        const key = Math.floor(iova / (context.sizes[i] ?? 1));
        const map = context.maps[i];
        const entry = map?.get(key);
        if (entry !== undefined && match(entry)) {
          map?.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  invalidateAll(): void {
    this.contexts.clear();
    this.lastContext = -1;
    this.last = undefined;
    this.firstMap = undefined;
  }
}
