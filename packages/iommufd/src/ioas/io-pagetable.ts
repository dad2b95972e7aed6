import {
  type IommuDomain,
  type IommuReservedRegion,
  type Iova,
  KernelError,
  minPageSize,
} from '@vfiokit/core';
import type { IommufdTask } from '../task.js';
import { hex, lowestBit, PAGE_SIZE, roundupPowOfTwo, ULONG_MAX } from './bits.js';
import { holes, type Interval, intersects, usedSpans } from './intervals.js';
import { IoptPages, type PinnedRun } from './pages.js';

/** `struct iopt_area`: one mapped IOVA range, a slice of an {@link IoptPages}. */
export interface IoptArea extends Interval {
  readonly pages: IoptPages;
  /** Byte offset of `start` inside `pages` (`iopt_area_start_byte`). */
  readonly startByte: bigint;
  readonly prot: number;
  /** `num_accesses`: exact ranges an `iommufd_access` pinned, by "first-last" page index. */
  readonly accessPins: Map<string, number>;
  /** `prevent_access`: an unmap is waiting for accesses to let go. */
  preventAccess: boolean;
}

interface Reserved extends Interval {
  readonly owner: object;
}

/** The part of `iommufd_access` the page table calls back (`iommufd_access_notify_unmap`). */
export interface IoptAccess {
  readonly iovaAlignment: bigint;
  /** `ops->unmap`: the driver must unpin everything it pinned in `[iova, iova + length)`. */
  notifyUnmap(iova: bigint, length: bigint): void;
}

/** One element of `iopt_pages_list`: a slice of user memory to map. */
export interface PagesSlice {
  readonly pages: IoptPages;
  readonly startByte: bigint;
  readonly length: bigint;
}

const areaLength = (a: Interval): bigint => a.last - a.start + 1n;
const firstIndex = (a: IoptArea): bigint => a.startByte / PAGE_SIZE;
const lastIndex = (a: IoptArea): bigint => (a.startByte + areaLength(a) - 1n) / PAGE_SIZE;

/**
 * `struct io_pagetable` (drivers/iommu/iommufd/io_pagetable.c, Linux 6.12): the IOVA → user
 * memory map of one IOAS, the domains that mirror it, the reserved and allowed IOVA trees
 * and the accesses of emulated devices. IOVAs and lengths are bigints (`unsigned long`).
 */
export class IoPagetable {
  private readonly areas: IoptArea[] = [];
  private readonly reserved: Reserved[] = [];
  private allowed: Interval[] = [];
  private readonly domainList: IommuDomain[] = [];
  private readonly accessList = new Set<IoptAccess>();
  /** `iopt->iova_alignment`: 1 for a software table, the domains' smallest page once attached. */
  iovaAlignment = 1n;
  /** `iopt->disable_large_pages` (IOMMU_OPTION_HUGE_PAGES = 0). */
  disableLargePages = false;

  get domains(): readonly IommuDomain[] {
    return this.domainList;
  }

  /** The mapped areas in IOVA order (a copy). */
  mappings(): readonly IoptArea[] {
    return [...this.areas];
  }

  /** Reserved IOVA ranges (device reserved regions, domain apertures), in IOVA order. */
  reservedRanges(): Interval[] {
    return usedSpans(this.reserved, 0n, ULONG_MAX);
  }

  /** IOMMU_IOAS_IOVA_RANGES: the holes of the reserved tree over `[0, ULONG_MAX]`. */
  iovaRanges(): Interval[] {
    return holes(this.reserved, 0n, ULONG_MAX);
  }

  /** The allowed ranges (IOMMU_IOAS_ALLOW_IOVAS), in IOVA order. */
  allowedRanges(): Interval[] {
    return [...this.allowed].sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  // --- map ------------------------------------------------------------------------------

  /**
   * `iopt_map_user_pages`: maps `[uptr, uptr + length)` of `task`'s memory at `iova`, or at
   * an IOVA of the table's choosing when `iova` is null (IOPT_ALLOC_IOVA). Returns the IOVA.
   */
  mapUserPages(
    task: IommufdTask,
    chargeMm: boolean,
    iova: bigint | null,
    uptr: bigint,
    length: bigint,
    prot: number,
    write: boolean,
  ): bigint {
    const pages = new IoptPages(task, uptr, length, write);
    if (chargeMm && pages.accountMode === 'user') pages.accountMode = 'mm';
    return this.mapPages([{ pages, startByte: uptr - pages.uptr, length }], length, iova, prot, uptr);
  }

  /** `iopt_map_pages` = `iopt_alloc_area_pages` then `iopt_fill_domains_pages`. */
  mapPages(
    list: readonly PagesSlice[],
    length: bigint,
    dstIova: bigint | null,
    prot: number,
    uptr?: bigint,
  ): bigint {
    if ((length & (this.iovaAlignment - 1n)) !== 0n || length === 0n)
      throw new KernelError('EINVAL', `length ${hex(length)} is not aligned to ${hex(this.iovaAlignment)}`);
    let iova: bigint;
    if (dstIova === null) {
      const first = list[0];
      iova = this.allocIova(uptr ?? (first === undefined ? 0n : first.pages.uptr + first.startByte), length);
    } else {
      this.checkIova(dstIova, length);
      iova = dstIova;
    }
    const created: IoptArea[] = [];
    let cursor = iova;
    try {
      for (const slice of list) {
        created.push(this.insertArea(slice, cursor, prot));
        cursor += slice.length;
      }
      for (const area of created) this.fillDomains(area);
    } catch (error) {
      for (const area of created) this.removeArea(area);
      throw error;
    }
    return iova;
  }

  /** `iopt_check_iova`: alignment (`EINVAL`), wrap (`EOVERFLOW`), reserved (`EINVAL`), mapped (`EEXIST`). */
  private checkIova(iova: bigint, length: bigint): void {
    if ((iova & (this.iovaAlignment - 1n)) !== 0n)
      throw new KernelError('EINVAL', `IOVA ${hex(iova)} is not aligned to ${hex(this.iovaAlignment)}`);
    const last = iova + length - 1n;
    if (last > ULONG_MAX) throw new KernelError('EOVERFLOW', `IOVA ${hex(iova)} + ${hex(length)} wraps`);
    if (this.reserved.some((r) => intersects(r, iova, last)))
      throw new KernelError('EINVAL', `[${hex(iova)}, ${hex(last)}] crosses a reserved IOVA range`);
    if (this.areas.some((a) => intersects(a, iova, last)))
      throw new KernelError('EEXIST', `[${hex(iova)}, ${hex(last)}] is already mapped`);
  }

  /**
   * `iopt_alloc_iova`: the first hole of (reserved ∪ areas), inside the allowed ranges (or
   * `[PAGE_SIZE, ULONG_MAX - PAGE_SIZE]`), aligned as the user pointer is (up to PAGE_SIZE:
   * the oracle's kernel has no CONFIG_TRANSPARENT_HUGEPAGE) and with its page offset.
   * `EOVERFLOW` for a huge length, `EINVAL` under the table's alignment, `ENOSPC` when full.
   */
  private allocIova(uptr: bigint, length: bigint): bigint {
    const pageOffset = uptr % PAGE_SIZE;
    if (length === 0n || length >= ULONG_MAX / 2n)
      throw new KernelError('EOVERFLOW', `length ${hex(length)}`);
    let alignment = uptr === 0n ? roundupPowOfTwo(length) : minBig(roundupPowOfTwo(length), lowestBit(uptr));
    if (alignment >= PAGE_SIZE) alignment = PAGE_SIZE;
    if (alignment < this.iovaAlignment)
      throw new KernelError(
        'EINVAL',
        `user pointer ${hex(uptr)} cannot meet IOVA alignment ${hex(this.iovaAlignment)}`,
      );
    const lo = PAGE_SIZE;
    const hi = ULONG_MAX - PAGE_SIZE;
    const allowedSpans =
      this.allowed.length === 0 ? [{ start: lo, last: hi }] : usedSpans(this.allowed, lo, hi);
    const used: Interval[] = [...this.reserved, ...this.areas];
    for (const span of allowedSpans) {
      if (fitIn(span.start, span.last, length, alignment, pageOffset) === undefined) continue;
      for (const hole of holes(used, span.start, span.last)) {
        const at = fitIn(hole.start, hole.last, length, alignment, pageOffset);
        if (at !== undefined) return at;
      }
    }
    throw new KernelError('ENOSPC', `no free IOVA range of ${hex(length)}`);
  }

  /** `iopt_insert_area`: `EPERM` for a writeable slice of read-only pages, `EINVAL` misaligned offset. */
  private insertArea(slice: PagesSlice, iova: bigint, prot: number): IoptArea {
    if ((prot & 2) !== 0 && !slice.pages.writable)
      throw new KernelError('EPERM', 'a writeable map of pages mapped read-only');
    if (((slice.startByte % PAGE_SIZE) & (this.iovaAlignment - 1n)) !== 0n)
      throw new KernelError('EINVAL', `page offset of ${hex(slice.startByte)} breaks IOVA alignment`);
    const area: IoptArea = {
      start: iova,
      last: iova + slice.length - 1n,
      pages: slice.pages,
      startByte: slice.startByte,
      prot,
      accessPins: new Map(),
      preventAccess: false,
    };
    if (area.last > ULONG_MAX) throw new KernelError('EOVERFLOW', `IOVA ${hex(iova)} wraps`);
    this.areas.push(area);
    this.areas.sort((a, b) => (a.start < b.start ? -1 : 1));
    return area;
  }

  private removeArea(area: IoptArea): void {
    const at = this.areas.indexOf(area);
    if (at >= 0) this.areas.splice(at, 1);
  }

  // --- domains ----------------------------------------------------------------------------

  /**
   * `iopt_area_fill_domains`: with domains, the area's pages are pinned (one hold for all
   * domains: the first domain is the "storage" domain) and mapped into every domain.
   */
  private fillDomains(area: IoptArea): void {
    if (this.domainList.length === 0) return;
    const paddrs = area.pages.hold(firstIndex(area), lastIndex(area));
    const done: IommuDomain[] = [];
    try {
      for (const domain of this.domainList) {
        mapArea(domain, area, paddrs);
        done.push(domain);
      }
    } catch (error) {
      for (const domain of done) domain.unmap(toIova(area.start), Number(areaLength(area)));
      area.pages.release(firstIndex(area), lastIndex(area));
      throw error;
    }
  }

  private unfillDomains(area: IoptArea): void {
    if (this.domainList.length === 0) return;
    for (const domain of this.domainList) domain.unmap(toIova(area.start), Number(areaLength(area)));
    area.pages.release(firstIndex(area), lastIndex(area));
  }

  /**
   * `iopt_table_add_domain`: the domain's smallest page becomes the IOVA alignment (`EINVAL`
   * past PAGE_SIZE, `EADDRINUSE` when an existing area breaks it), IOVA outside its aperture
   * is reserved (`EADDRINUSE` over an area), then every area is pinned and mapped into it.
   */
  addDomain(domain: IommuDomain): void {
    if (this.domainList.includes(domain)) throw new KernelError('EEXIST', 'domain is already in the table');
    const pg = BigInt(minPageSize(domain.pgsizeBitmap));
    const alignment = pg > this.iovaAlignment ? pg : this.iovaAlignment;
    if (alignment > PAGE_SIZE)
      throw new KernelError('EINVAL', `domain page size ${hex(pg)} is larger than PAGE_SIZE`);
    if (alignment !== this.iovaAlignment) this.checkAlignment(alignment);
    const start = BigInt(domain.aperture.start);
    const end = BigInt(domain.aperture.end);
    try {
      if (start !== 0n) this.reserveIova(0n, start - 1n, domain);
      if (end !== ULONG_MAX) this.reserveIova(end + 1n, ULONG_MAX, domain);
      this.fillDomain(domain);
    } catch (error) {
      this.removeReservedIova(domain);
      throw error;
    }
    this.iovaAlignment = alignment;
    this.domainList.push(domain);
  }

  /** `iopt_fill_domain`: the first domain pins every area; later ones reuse the pins. */
  private fillDomain(domain: IommuDomain): void {
    const done: IoptArea[] = [];
    try {
      for (const area of this.areas) {
        const paddrs =
          this.domainList.length === 0 ? area.pages.hold(firstIndex(area), lastIndex(area)) : pinnedOf(area);
        done.push(area);
        try {
          mapArea(domain, area, paddrs);
        } catch (error) {
          done.pop();
          if (this.domainList.length === 0) area.pages.release(firstIndex(area), lastIndex(area));
          throw error;
        }
      }
    } catch (error) {
      for (const area of done) {
        domain.unmap(toIova(area.start), Number(areaLength(area)));
        if (this.domainList.length === 0) area.pages.release(firstIndex(area), lastIndex(area));
      }
      throw error;
    }
  }

  /** `iopt_table_remove_domain`: unmap, unpin with the last domain, drop its reservations. */
  removeDomain(domain: IommuDomain): void {
    const at = this.domainList.indexOf(domain);
    if (at < 0) throw new KernelError('EINVAL', 'domain is not in the table');
    this.domainList.splice(at, 1);
    for (const area of this.areas) {
      domain.unmap(toIova(area.start), Number(areaLength(area)));
      if (this.domainList.length === 0) area.pages.release(firstIndex(area), lastIndex(area));
    }
    this.removeReservedIova(domain);
    this.calculateAlignment();
  }

  /** `iopt_check_iova_alignment`: `EADDRINUSE` when an area breaks `alignment`. */
  private checkAlignment(alignment: bigint): void {
    const mask = alignment - 1n;
    for (const a of this.areas)
      if (
        (a.start & mask) !== 0n ||
        (areaLength(a) & mask) !== 0n ||
        ((a.startByte % PAGE_SIZE) & mask) !== 0n
      )
        throw new KernelError('EADDRINUSE', `area at ${hex(a.start)} is not ${hex(alignment)}-aligned`);
  }

  /** `iopt_calculate_iova_alignment`. */
  calculateAlignment(): void {
    let alignment = this.disableLargePages ? PAGE_SIZE : 1n;
    for (const d of this.domainList) {
      const pg = BigInt(minPageSize(d.pgsizeBitmap));
      if (pg > alignment) alignment = pg;
    }
    for (const a of this.accessList) if (a.iovaAlignment > alignment) alignment = a.iovaAlignment;
    if (alignment > this.iovaAlignment) this.checkAlignment(alignment);
    this.iovaAlignment = alignment;
  }

  // --- reserved and allowed IOVA ----------------------------------------------------------

  /** `iopt_reserve_iova`: `EADDRINUSE` over an area or an allowed range. */
  reserveIova(start: bigint, last: bigint, owner: object): void {
    if (
      this.areas.some((a) => intersects(a, start, last)) ||
      this.allowed.some((a) => intersects(a, start, last))
    )
      throw new KernelError('EADDRINUSE', `[${hex(start)}, ${hex(last)}] is mapped or allowed`);
    this.reserved.push({ start, last, owner });
  }

  /** `iopt_remove_reserved_iova`: everything `owner` reserved. */
  removeReservedIova(owner: object): void {
    for (let i = this.reserved.length - 1; i >= 0; i--)
      if (this.reserved[i]?.owner === owner) this.reserved.splice(i, 1);
  }

  /**
   * `iopt_table_enforce_dev_resv_regions`: reserve each region but DIRECT_RELAXABLE; returns
   * the SW_MSI start, if any. `EINVAL` (a driver bug the kernel WARNs on) for SW_MSI beside
   * HW MSI or two SW_MSI windows. All or nothing.
   */
  enforceDeviceReservedRegions(regions: readonly IommuReservedRegion[], owner: object): bigint | undefined {
    let swMsi: bigint | undefined;
    let hw = 0;
    let sw = 0;
    try {
      for (const r of regions) {
        if (r.type === 'direct-relaxable') continue;
        if (r.type === 'msi') hw++;
        if (r.type === 'sw-msi') {
          swMsi = BigInt(r.start);
          sw++;
        }
        this.reserveIova(BigInt(r.start), BigInt(r.start) + BigInt(r.size) - 1n, owner);
      }
      if ((sw > 0 && hw > 0) || sw > 1)
        throw new KernelError('EINVAL', 'device reports SW_MSI with HW MSI or twice');
    } catch (error) {
      this.removeReservedIova(owner);
      throw error;
    }
    return swMsi;
  }

  /** `iopt_set_allow_iova`: `EADDRINUSE` when an allowed range crosses a reserved one (no change). */
  setAllowIova(ranges: readonly Interval[]): void {
    for (const r of ranges)
      if (this.reserved.some((x) => intersects(x, r.start, r.last)))
        throw new KernelError('EADDRINUSE', `[${hex(r.start)}, ${hex(r.last)}] crosses a reserved range`);
    this.allowed = [...ranges];
  }

  // --- unmap ------------------------------------------------------------------------------

  /** `iopt_unmap_iova`: `EINVAL` for length 0, `EOVERFLOW` on wrap; returns bytes unmapped. */
  unmapIova(iova: bigint, length: bigint): bigint {
    if (length === 0n) throw new KernelError('EINVAL', 'unmap of length 0');
    const last = iova + length - 1n;
    if (last > ULONG_MAX) throw new KernelError('EOVERFLOW', `IOVA ${hex(iova)} + ${hex(length)} wraps`);
    return this.unmapRange(iova, last);
  }

  /** `iopt_unmap_all`. */
  unmapAll(): bigint {
    return this.unmapRange(0n, ULONG_MAX);
  }

  /**
   * `iopt_unmap_iova_range`: every area inside `[start, last]` goes, in IOVA order; an area
   * that sticks out stops the walk with `ENOENT` (the areas before it stay unmapped, and the
   * caller is told nothing about them). Areas an access pinned are first offered to every
   * access (`iommufd_access_notify_unmap`); one that does not let go after 100 tries is
   * `EDEADLOCK` (the kernel WARNs).
   */
  private unmapRange(start: bigint, last: bigint): bigint {
    let unmapped = 0n;
    let cursor = start;
    let tries = 0;
    for (;;) {
      const area = this.areas.find((a) => intersects(a, cursor, last));
      if (area === undefined) break;
      if (area.start < start || area.last > last)
        throw new KernelError(
          'ENOENT',
          `area [${hex(area.start)}, ${hex(area.last)}] is not inside the range`,
          {
            cause: { unmapped },
          },
        );
      if (area.start !== cursor) tries = 0;
      if (area.accessPins.size > 0) {
        cursor = area.start;
        area.preventAccess = true;
        for (const access of [...this.accessList]) access.notifyUnmap(area.start, areaLength(area));
        tries++;
        if (tries > 100) throw new KernelError('EDEADLK', `an access does not unpin ${hex(area.start)}`);
        continue;
      }
      this.unfillDomains(area);
      this.removeArea(area);
      unmapped += areaLength(area);
      if (area.last >= last) break;
      cursor = area.last + 1n;
    }
    return unmapped;
  }

  /**
   * `iopt_cut_iova`: splits the areas that contain each IOVA so that it becomes an area's
   * last byte (VFIO_TYPE1_IOMMU's partial unmaps through the compat ioctls). `EINVAL` for a
   * cut that breaks the IOVA alignment (`iopt_area_split`), `EBUSY` over pages an access pinned.
   */
  cutIova(iovas: readonly bigint[]): void {
    for (const cut of iovas) {
      const area = this.areas.find((a) => a.start <= cut && cut < a.last);
      if (area === undefined) continue;
      const head = cut - area.start + 1n;
      if ((head & (this.iovaAlignment - 1n)) !== 0n || head % PAGE_SIZE !== 0n)
        throw new KernelError('EINVAL', `cannot split the area at ${hex(area.start)} after ${hex(cut)}`);
      if (area.accessPins.size > 0)
        throw new KernelError('EBUSY', `an access pinned pages at ${hex(area.start)}`);
      const lhs: IoptArea = { ...area, last: cut, accessPins: new Map(), preventAccess: false };
      const rhs: IoptArea = {
        ...area,
        start: cut + 1n,
        startByte: area.startByte + head,
        accessPins: new Map(),
        preventAccess: false,
      };
      // Both halves hold their own pages; the whole area's hold splits exactly in two.
      this.removeArea(area);
      this.areas.push(lhs, rhs);
      this.areas.sort((a, b) => (a.start < b.start ? -1 : 1));
    }
  }

  // --- IOMMU_IOAS_COPY --------------------------------------------------------------------

  /** `iopt_get_pages`: the slices behind `[iova, iova + length)`; `ENOENT` for any gap. */
  getPages(iova: bigint, length: bigint): PagesSlice[] {
    if (length === 0n) throw new KernelError('EINVAL', 'copy of length 0');
    const last = iova + length - 1n;
    if (last > ULONG_MAX) throw new KernelError('EOVERFLOW', `IOVA ${hex(iova)} + ${hex(length)} wraps`);
    return this.contig(iova, last).map(({ area, from, to }) => ({
      pages: area.pages,
      startByte: area.startByte + (from - area.start),
      length: to - from + 1n,
    }));
  }

  /** `iopt_for_each_contig_area` + `iopt_area_contig_done`: `ENOENT` unless areas tile the range. */
  contig(iova: bigint, last: bigint): { area: IoptArea; from: bigint; to: bigint }[] {
    const out: { area: IoptArea; from: bigint; to: bigint }[] = [];
    let cursor = iova;
    for (;;) {
      const area = this.areas.find((a) => a.start <= cursor && cursor <= a.last);
      if (area === undefined) throw new KernelError('ENOENT', `no mapping at IOVA ${hex(cursor)}`);
      const to = area.last < last ? area.last : last;
      out.push({ area, from: cursor, to });
      if (to >= last) return out;
      cursor = to + 1n;
    }
  }

  // --- accesses (emulated devices) --------------------------------------------------------

  /** `iopt_add_access`. */
  addAccess(access: IoptAccess): void {
    this.accessList.add(access);
    try {
      this.calculateAlignment();
    } catch (error) {
      this.accessList.delete(access);
      throw error;
    }
  }

  /** `iopt_remove_access`. */
  removeAccess(access: IoptAccess): void {
    this.accessList.delete(access);
    this.calculateAlignment();
  }

  /** Pages of all areas pinned right now, summed over distinct `iopt_pages`. */
  pinnedPages(): number {
    const seen = new Set<IoptPages>();
    let n = 0;
    for (const a of this.areas) {
      if (seen.has(a.pages)) continue;
      seen.add(a.pages);
      n += a.pages.npinned;
    }
    return n;
  }
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** `__alloc_iova_check_range`: the aligned start (with the page offset) if `length` fits. */
function fitIn(
  start: bigint,
  last: bigint,
  length: bigint,
  alignment: bigint,
  pageOffset: bigint,
): bigint | undefined {
  const up = start + alignment - 1n;
  if (up > ULONG_MAX) return undefined;
  const aligned = (up & ~(alignment - 1n)) | pageOffset;
  if (aligned >= last || last - aligned < length - 1n) return undefined;
  return aligned;
}

function toIova(value: bigint): Iova {
  return Number(value) as Iova;
}

function pinnedOf(area: IoptArea): PinnedRun[] {
  return area.pages.runs(firstIndex(area), lastIndex(area));
}

/** Maps an area's pinned runs into a domain (`batch_to_domain`), undoing on failure. */
function mapArea(domain: IommuDomain, area: IoptArea, runs: readonly PinnedRun[]): void {
  const first = firstIndex(area);
  const done: [number, number][] = [];
  try {
    for (const run of runs) {
      const iova = Number(area.start + (run.index - first) * PAGE_SIZE);
      const size = run.npages * Number(PAGE_SIZE);
      domain.map(iova as Iova, run.paddr, size, area.prot);
      done.push([iova, size]);
    }
  } catch (error) {
    for (const [iova, size] of done) domain.unmap(iova as Iova, size);
    throw error;
  }
}
