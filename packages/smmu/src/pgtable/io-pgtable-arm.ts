import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuProt,
  KernelError,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import type { TablePageAllocator } from './page-allocator.js';
import {
  addressHi,
  addressLo,
  HI_PTE_ATTR_MASK,
  HI_PTE_XN,
  MAIR_ATTR_IDX_CACHE,
  MAIR_ATTR_IDX_DEV,
  PTE_AF,
  PTE_AP_RDONLY,
  PTE_AP_UNPRIV,
  PTE_ATTR_LO_MASK,
  PTE_ATTRINDX_SHIFT,
  PTE_HAP_READ,
  PTE_HAP_WRITE,
  PTE_MEMATTR_DEV,
  PTE_MEMATTR_NC,
  PTE_MEMATTR_OIWB,
  PTE_NG,
  PTE_SH_IS,
  PTE_SH_OS,
  PTE_TYPE_BLOCK,
  PTE_TYPE_MASK,
  PTE_TYPE_PAGE,
  PTE_TYPE_TABLE,
  pteAddress,
} from './pte.js';

/** `enum io_pgtable_fmt` values this model implements. */
export type IoPgtableFormat = 'ARM_64_LPAE_S1' | 'ARM_64_LPAE_S2';

/**
 * `struct iommu_flush_ops` (include/linux/io-pgtable.h): how the page-table code asks the
 * SMMU driver to invalidate its TLB. `tlb_flush_walk` is called when a table is freed
 * (partial walks cached for `[iova, iova + size)` must go), `tlb_add_page` for each leaf
 * that is cleared. A driver may issue the invalidation at once (arm-smmu) or batch it until
 * `iotlb_sync` (arm-smmu-v3).
 */
export interface IommuFlushOps {
  tlb_flush_all(): void;
  tlb_flush_walk(iova: number, size: number, granule: number): void;
  tlb_add_page(iova: number, granule: number): void;
}

/** `struct io_pgtable_cfg` inputs. */
export interface IoPgtableConfig {
  /** Default `ARM_64_LPAE_S1`. */
  readonly format?: IoPgtableFormat;
  /** Page sizes offered (default 4K|2M|1G); restricted to one granule as the kernel does. */
  readonly pgsizeBitmap?: number;
  /** Input address bits, 32–48 (default 48). */
  readonly ias?: number;
  /** Output address bits: 32, 36, 40, 42, 44 or 48 (default 48). */
  readonly oas?: number;
  /** `cfg->coherent_walk`: the SMMU snoops the CPU caches when it walks (TCR SH/IRGN/ORGN). */
  readonly coherentWalk?: boolean;
  /** Where tables come from; its `memory` is where descriptors are written. */
  readonly allocator: TablePageAllocator;
  /** The driver's TLB maintenance; omitted, the tables have no TLB in front of them. */
  readonly tlb?: IommuFlushOps;
}

/** `cfg->arm_lpae_s1_cfg`: what a driver writes to TTBR0, TCR and MAIR. */
export interface ArmLpaeS1Cfg {
  readonly ttbr: PhysAddr;
  readonly tcr: {
    readonly sh: number;
    readonly irgn: number;
    readonly orgn: number;
    readonly tg: number;
    readonly ips: number;
    readonly tsz: number;
  };
  /** MAIR as two 32-bit halves `[MAIR0, MAIR1]`. */
  readonly mair: readonly [number, number];
}

/** `cfg->arm_lpae_s2_cfg`: what a driver writes to VTTBR and VTCR. */
export interface ArmLpaeS2Cfg {
  readonly vttbr: PhysAddr;
  readonly vtcr: {
    readonly sh: number;
    readonly irgn: number;
    readonly orgn: number;
    readonly sl: number;
    readonly tg: number;
    readonly ps: number;
    readonly tsz: number;
  };
}

const MAX_LEVELS = 4;
const NO_FLUSH: IommuFlushOps = {
  // No TLB caches these tables (no SMMU attached): nothing can hold a stale entry.
  tlb_flush_all: () => undefined,
  tlb_flush_walk: () => undefined,
  tlb_add_page: () => undefined,
};

// ARM_LPAE_TCR_PS_*_BIT by output size.
const PS_BY_OAS = new Map<number, number>([
  [32, 0],
  [36, 1],
  [40, 2],
  [42, 3],
  [44, 4],
  [48, 5],
]);

/** Whether `size` is one power of two present in `bitmap`. */
export function hasPgsize(bitmap: number, size: number): boolean {
  if (!Number.isSafeInteger(size) || size <= 0 || size > 0x4000_0000) return false;
  return (size & (size - 1)) === 0 && (bitmap & size) !== 0;
}

/**
 * io-pgtable-arm (drivers/iommu/io-pgtable-arm.c, Linux 6.12): the AArch64 LPAE page-table
 * writer the arm-smmu and arm-smmu-v3 drivers use, stage 1 or stage 2, 4K/16K/64K granule.
 * Tables are 64-bit little-endian descriptors in `PhysicalMemory`, allocated from a
 * {@link TablePageAllocator}; nothing about the mappings is kept in JavaScript objects, so
 * an SMMU model that walks the same memory sees exactly what this code wrote.
 *
 * Kernel behaviours reproduced on purpose:
 * - a leaf is installed at the level whose block size equals `pgsize`; a map over a leaf is
 *   `EEXIST`, but a block over a *table* first unmaps and frees that table, whatever it
 *   still maps (`arm_lpae_init_pte`);
 * - unmapping part of a block splits it into a next-level table (`arm_lpae_split_blk_unmap`);
 * - tables are freed only when an unmap covers a whole table entry (`__arm_lpae_unmap` with
 *   `size == block size` on a table); a table emptied leaf by leaf stays allocated until
 *   `free()` (`free_io_pgtable_ops`).
 * One deviation: a run of leaves stops at the end of the table it starts in, including at
 * the pgd, where the kernel counts `ARM_LPAE_PTES_PER_TABLE` even for a concatenated or
 * short pgd.
 */
export class ArmLpaeIoPgtable {
  readonly format: IoPgtableFormat;
  /** Page sizes after `arm_lpae_restrict_pgsizes`. */
  readonly pgsizeBitmap: number;
  readonly ias: number;
  readonly oas: number;
  readonly coherentWalk: boolean;
  /** Translation granule in bytes (4K, 16K or 64K). */
  readonly granule: number;
  readonly bitsPerLevel: number;
  readonly startLevel: number;
  readonly pgdBits: number;
  /** Physical address of the top-level table. */
  readonly pgd: PhysAddr;
  readonly s1Cfg: ArmLpaeS1Cfg | undefined;
  readonly s2Cfg: ArmLpaeS2Cfg | undefined;
  readonly memory: PhysicalMemory;
  private readonly allocator: TablePageAllocator;
  private readonly tlb: IommuFlushOps;
  private readonly ptesPerTable: number;
  private readonly scratch = new Uint8Array(8);
  private freed = false;
  // The descriptor last read by readPte, as two words (no allocation per read).
  private lo = 0;
  private hi = 0;
  /** After a successful `walk`: the leaf's words and level. */
  leafLo = 0;
  leafHi = 0;
  leafLevel = 0;

  constructor(config: IoPgtableConfig) {
    rejectUnknownOptions(
      config,
      ['format', 'pgsizeBitmap', 'ias', 'oas', 'coherentWalk', 'allocator', 'tlb'],
      'ArmLpaeIoPgtable',
    );
    this.format = config.format ?? 'ARM_64_LPAE_S1';
    if (this.format !== 'ARM_64_LPAE_S1' && this.format !== 'ARM_64_LPAE_S2') {
      throw new KernelError('EINVAL', `io-pgtable format ${String(this.format)} is not implemented`);
    }
    this.allocator = config.allocator;
    this.memory = config.allocator.memory;
    this.tlb = config.tlb ?? NO_FLUSH;
    this.coherentWalk = config.coherentWalk ?? true;
    const ias = config.ias ?? 48;
    const oas = config.oas ?? 48;
    if (!Number.isInteger(ias) || ias < 32 || ias > 48) {
      throw new KernelError('EINVAL', `ias ${String(ias)} is not between 32 and 48`);
    }
    const ps = PS_BY_OAS.get(oas);
    if (ps === undefined) throw new KernelError('EINVAL', `oas ${String(oas)} has no TCR.IPS encoding`);
    // arm_lpae_restrict_pgsizes with PAGE_SIZE 4K.
    const offered = config.pgsizeBitmap ?? 0x1000 | 0x20_0000 | 0x4000_0000;
    let granule = 0;
    if ((offered & 0x1000) !== 0) granule = 0x1000;
    else {
      for (let bit = 0x2000; bit <= 0x4000_0000; bit *= 2) {
        if ((offered & bit) !== 0) {
          granule = bit;
          break;
        }
      }
    }
    const sizes =
      granule === 0x1000
        ? 0x1000 | 0x20_0000 | 0x4000_0000
        : granule === 0x4000
          ? 0x4000 | 0x200_0000
          : granule === 0x1_0000
            ? 0x1_0000 | 0x2000_0000
            : 0;
    this.pgsizeBitmap = offered & sizes;
    if ((this.pgsizeBitmap & (0x1000 | 0x4000 | 0x1_0000)) === 0) {
      throw new KernelError('EINVAL', `pgsizeBitmap 0x${offered.toString(16)} has no 4K, 16K or 64K granule`);
    }
    this.granule = granule;
    this.ias = ias;
    this.oas = oas;
    // arm_lpae_alloc_pgtable.
    const pgShift = Math.log2(granule);
    this.bitsPerLevel = pgShift - 3;
    const vaBits = ias - pgShift;
    const levels = Math.ceil(vaBits / this.bitsPerLevel);
    let startLevel = MAX_LEVELS - levels;
    let pgdBits = vaBits - this.bitsPerLevel * (levels - 1);
    this.ptesPerTable = 2 ** this.bitsPerLevel;
    const sh = this.coherentWalk ? 3 : 2;
    const rgn = this.coherentWalk ? 1 : 0;
    const tg = granule === 0x1000 ? 0 : granule === 0x1_0000 ? 1 : 2;
    if (this.format === 'ARM_64_LPAE_S2') {
      // Concatenate PGDs at level 1 if possible to shorten the stage-2 walk.
      if (startLevel === 0 && 2 ** pgdBits <= 16) {
        pgdBits += this.bitsPerLevel;
        startLevel++;
      }
    }
    this.startLevel = startLevel;
    this.pgdBits = pgdBits;
    this.pgd = this.allocator.alloc(this.pgdSize);
    if (this.format === 'ARM_64_LPAE_S1') {
      this.s1Cfg = {
        ttbr: this.pgd,
        tcr: { sh, irgn: rgn, orgn: rgn, tg, ips: ps, tsz: 64 - ias },
        // NC at 0, WBRWA at 1, DEVICE at 2, INC_OWBRWA at 3.
        mair: [0xf404ff44, 0],
      };
      this.s2Cfg = undefined;
    } else {
      const sl = granule === 0x1000 ? startLevel + 1 : startLevel;
      this.s2Cfg = {
        vttbr: this.pgd,
        vtcr: { sh, irgn: rgn, orgn: rgn, sl: ~sl & 3, tg, ps, tsz: 64 - ias },
      };
      this.s1Cfg = undefined;
    }
  }

  /** ARM_LPAE_PGD_SIZE: bytes of the top-level table. */
  get pgdSize(): number {
    return 8 * 2 ** this.pgdBits;
  }

  /** ARM_LPAE_BLOCK_SIZE(lvl): bytes one entry at `level` maps. */
  blockSize(level: number): number {
    return 2 ** ((MAX_LEVELS - level) * this.bitsPerLevel + 3);
  }

  /** Entries in a table at `level` (the pgd may be shorter or concatenated). */
  entries(level: number): number {
    return level === this.startLevel ? 2 ** this.pgdBits : this.ptesPerTable;
  }

  /** ARM_LPAE_LVL_IDX. */
  levelIndex(iova: number, level: number): number {
    return Math.floor(iova / this.blockSize(level)) % this.entries(level);
  }

  /** `arm_lpae_prot_to_pte`: the attribute words for `IOMMU_*` protections. */
  prot_to_pte(prot: IommuProt): [number, number] {
    let lo: number;
    if (this.format === 'ARM_64_LPAE_S1') {
      lo = PTE_NG;
      if ((prot & IOMMU_WRITE) === 0 && (prot & IOMMU_READ) !== 0) lo |= PTE_AP_RDONLY;
      if ((prot & IOMMU_PRIV) === 0) lo |= PTE_AP_UNPRIV;
      if ((prot & IOMMU_MMIO) !== 0) lo |= MAIR_ATTR_IDX_DEV << PTE_ATTRINDX_SHIFT;
      else if ((prot & IOMMU_CACHE) !== 0) lo |= MAIR_ATTR_IDX_CACHE << PTE_ATTRINDX_SHIFT;
    } else {
      lo = 0;
      if ((prot & IOMMU_READ) !== 0) lo |= PTE_HAP_READ;
      if ((prot & IOMMU_WRITE) !== 0) lo |= PTE_HAP_WRITE;
      if ((prot & IOMMU_MMIO) !== 0) lo |= PTE_MEMATTR_DEV;
      else if ((prot & IOMMU_CACHE) !== 0) lo |= PTE_MEMATTR_OIWB;
      else lo |= PTE_MEMATTR_NC;
    }
    lo |= (prot & IOMMU_CACHE) !== 0 ? PTE_SH_IS : PTE_SH_OS;
    const hi = (prot & IOMMU_NOEXEC) !== 0 ? HI_PTE_XN : 0;
    lo |= PTE_AF;
    return [lo >>> 0, hi >>> 0];
  }

  /**
   * `arm_lpae_map_pages`: maps `pgcount` pages of `pgsize` (one size of the bitmap); returns
   * the bytes mapped, which stop at the end of the leaf table the run starts in. Errors:
   * `EINVAL` for a size not in the bitmap or no access in `prot`, `ERANGE` for an IOVA
   * beyond `ias` or a physical address beyond `oas`, `EEXIST` over a leaf, `ENOMEM`.
   */
  map_pages(iova: number, paddr: number, pgsize: number, pgcount: number, prot: IommuProt): number {
    this.checkLive();
    if (!hasPgsize(this.pgsizeBitmap, pgsize)) {
      throw new KernelError('EINVAL', `page size 0x${pgsize.toString(16)} is not supported`);
    }
    if (iova >= 2 ** this.ias || paddr >= 2 ** this.oas) {
      throw new KernelError(
        'ERANGE',
        `iova 0x${iova.toString(16)} or paddr 0x${paddr.toString(16)} exceeds ias ${this.ias}/oas ${this.oas}`,
      );
    }
    if ((prot & (IOMMU_READ | IOMMU_WRITE)) === 0) {
      throw new KernelError('EINVAL', 'a mapping needs IOMMU_READ or IOMMU_WRITE');
    }
    if (!Number.isSafeInteger(pgcount) || pgcount <= 0) return 0;
    const [protLo, protHi] = this.prot_to_pte(prot);
    return this.mapAt(iova, paddr, pgsize, pgcount, protLo, protHi);
  }

  /** `arm_lpae_map` for one page or block (`map_pages` with a count of one). */
  map(iova: number, paddr: number, size: number, prot: IommuProt): void {
    this.map_pages(iova, paddr, size, 1, prot);
  }

  /**
   * `arm_lpae_unmap_pages`: clears `pgcount` entries of `pgsize` from `iova`, splitting a
   * block that is unmapped in part; returns the bytes unmapped, 0 at the first hole or for
   * a size not in the bitmap (the kernel WARNs and returns 0).
   */
  unmap_pages(iova: number, pgsize: number, pgcount: number): number {
    this.checkLive();
    if (!hasPgsize(this.pgsizeBitmap, pgsize) || !(pgcount > 0)) return 0;
    if (iova >= 2 ** this.ias) return 0;
    return this.unmapAt(iova, pgsize, pgcount, this.startLevel, this.pgd);
  }

  /** `arm_lpae_unmap`: one page or block. */
  unmap(iova: number, size: number): number {
    return this.unmap_pages(iova, size, 1);
  }

  /** `arm_lpae_iova_to_phys`: the physical address `iova` maps to, or 0. */
  iova_to_phys(iova: number): number {
    if (!this.walk(iova)) return 0;
    const block = this.blockSize(this.leafLevel);
    return pteAddress(this.leafLo, this.leafHi) + (iova % block);
  }

  /**
   * The software walk of `arm_lpae_iova_to_phys`: true when a leaf maps `iova`, with that
   * leaf's words and level left in `leafLo`, `leafHi` and `leafLevel`.
   */
  walk(iova: number): boolean {
    if (this.freed || !(iova >= 0) || iova >= 2 ** this.ias) return false;
    let table: number = this.pgd;
    for (let level = this.startLevel; level < MAX_LEVELS; level++) {
      this.readPte(table + this.levelIndex(iova, level) * 8);
      if (this.lo === 0 && this.hi === 0) return false;
      if (this.isLeaf(this.lo, level)) {
        this.leafLo = this.lo;
        this.leafHi = this.hi;
        this.leafLevel = level;
        return true;
      }
      table = pteAddress(this.lo, this.hi);
    }
    return false;
  }

  /** `free_io_pgtable_ops`: frees every table; the object is unusable afterwards. */
  free(): void {
    this.checkLive();
    // free_io_pgtable_ops: io_pgtable_tlb_flush_all before the tables go, so nothing cached
    // from them outlives them (a bank or ASID used again must not hit old entries).
    this.tlb.tlb_flush_all();
    this.freePgtable(this.startLevel, this.pgd);
    this.freed = true;
  }

  /** Whether `free()` has run. */
  get isFreed(): boolean {
    return this.freed;
  }

  private checkLive(): void {
    if (this.freed) throw new KernelError('EINVAL', 'the page table has been freed');
  }

  private isLeaf(lo: number, level: number): boolean {
    const type = lo & PTE_TYPE_MASK;
    return level === MAX_LEVELS - 1 ? type === PTE_TYPE_PAGE : type === PTE_TYPE_BLOCK;
  }

  private readPte(address: number): void {
    const s = this.scratch;
    this.memory.read(address as PhysAddr, s);
    this.lo = ((s[0] ?? 0) | ((s[1] ?? 0) << 8) | ((s[2] ?? 0) << 16) | ((s[3] ?? 0) << 24)) >>> 0;
    this.hi = ((s[4] ?? 0) | ((s[5] ?? 0) << 8) | ((s[6] ?? 0) << 16) | ((s[7] ?? 0) << 24)) >>> 0;
  }

  private writePte(address: number, lo: number, hi: number): void {
    const s = this.scratch;
    s[0] = lo & 0xff;
    s[1] = (lo >>> 8) & 0xff;
    s[2] = (lo >>> 16) & 0xff;
    s[3] = lo >>> 24;
    s[4] = hi & 0xff;
    s[5] = (hi >>> 8) & 0xff;
    s[6] = (hi >>> 16) & 0xff;
    s[7] = hi >>> 24;
    this.memory.write(address as PhysAddr, s);
  }

  // __arm_lpae_map, iteratively.
  private mapAt(
    iova: number,
    paddr: number,
    size: number,
    pgcount: number,
    protLo: number,
    protHi: number,
  ): number {
    let table: number = this.pgd;
    for (let level = this.startLevel; ; level++) {
      const index = this.levelIndex(iova, level);
      const ptep = table + index * 8;
      if (size === this.blockSize(level)) {
        const count = Math.min(pgcount, this.entries(level) - index);
        this.initPte(iova, paddr, protLo, protHi, level, count, table, index);
        return count * size;
      }
      // We can't allocate tables at the final level.
      if (level >= MAX_LEVELS - 1) throw new KernelError('EINVAL', 'no level has this block size');
      this.readPte(ptep);
      if (this.lo === 0 && this.hi === 0) {
        const child = this.allocator.alloc(this.granule);
        this.writePte(ptep, addressLo(child) | PTE_TYPE_TABLE, addressHi(child));
        table = child;
      } else if (this.isLeaf(this.lo, level)) {
        throw new KernelError('EEXIST', `0x${iova.toString(16)} lies in a mapped block`);
      } else {
        table = pteAddress(this.lo, this.hi);
      }
    }
  }

  // arm_lpae_init_pte: refuse leaves, replace tables, then write `count` leaves.
  private initPte(
    iova: number,
    paddr: number,
    protLo: number,
    protHi: number,
    level: number,
    count: number,
    table: number,
    index: number,
  ): void {
    const size = this.blockSize(level);
    for (let i = 0; i < count; i++) {
      this.readPte(table + (index + i) * 8);
      if (this.isLeaf(this.lo, level)) {
        throw new KernelError('EEXIST', `0x${(iova + i * size).toString(16)} is mapped already`);
      }
      if ((this.lo & PTE_TYPE_MASK) === PTE_TYPE_TABLE) {
        // "We need to unmap and free the old table before overwriting it with a block entry."
        if (this.unmapAt(iova + i * size, size, 1, level, table) !== size) {
          throw new KernelError('EINVAL', 'could not free the table under a new block');
        }
      }
    }
    this.writeLeaves(paddr, protLo, protHi, level, count, table + index * 8);
  }

  // __arm_lpae_init_pte.
  private writeLeaves(
    paddr: number,
    protLo: number,
    protHi: number,
    level: number,
    count: number,
    ptep: number,
  ): void {
    const type = level === MAX_LEVELS - 1 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    const size = this.blockSize(level);
    for (let i = 0; i < count; i++) {
      const address = paddr + i * size;
      this.writePte(
        ptep + i * 8,
        (protLo | type | addressLo(address)) >>> 0,
        (protHi | addressHi(address)) >>> 0,
      );
    }
  }

  // __arm_lpae_unmap.
  private unmapAt(iova: number, size: number, pgcount: number, level: number, table: number): number {
    if (level === MAX_LEVELS) return 0;
    const index = this.levelIndex(iova, level);
    let ptep = table + index * 8;
    this.readPte(ptep);
    if (this.lo === 0 && this.hi === 0) return 0;
    if (size === this.blockSize(level)) {
      const count = Math.min(pgcount, this.entries(level) - index);
      let i = 0;
      while (i < count) {
        this.readPte(ptep);
        if (this.lo === 0 && this.hi === 0) break;
        const lo = this.lo;
        const hi = this.hi;
        this.writePte(ptep, 0, 0);
        if (!this.isLeaf(lo, level)) {
          // Also flush any partial walks, then free the whole subtree.
          this.tlb.tlb_flush_walk(iova + i * size, size, this.granule);
          this.freePgtable(level + 1, pteAddress(lo, hi));
        } else {
          this.tlb.tlb_add_page(iova + i * size, size);
        }
        ptep += 8;
        i++;
      }
      return i * size;
    }
    if (this.isLeaf(this.lo, level)) {
      return this.splitBlkUnmap(iova, size, this.lo, this.hi, level + 1, ptep, pgcount);
    }
    return this.unmapAt(iova, size, pgcount, level + 1, pteAddress(this.lo, this.hi));
  }

  // arm_lpae_split_blk_unmap: replace a block by a table of next-level leaves minus the
  // part being unmapped.
  private splitBlkUnmap(
    iova: number,
    size: number,
    blkLo: number,
    blkHi: number,
    level: number,
    ptep: number,
    pgcount: number,
  ): number {
    if (level === MAX_LEVELS) return 0;
    let tablep: number;
    try {
      tablep = this.allocator.alloc(this.granule);
    } catch (error) {
      if (error instanceof KernelError && error.code === 'ENOMEM') return 0; // Bytes unmapped.
      throw error;
    }
    const splitSize = this.blockSize(level);
    let unmapStart = -1;
    let count = 0;
    if (size === splitSize) {
      unmapStart = this.levelIndex(iova, level);
      count = Math.min(pgcount, this.ptesPerTable - unmapStart);
    }
    const blkPaddr = pteAddress(blkLo, blkHi);
    const protLo = blkLo & PTE_ATTR_LO_MASK;
    const protHi = blkHi & HI_PTE_ATTR_MASK;
    for (let i = 0; i < this.ptesPerTable; i++) {
      if (i >= unmapStart && i < unmapStart + count) continue;
      this.writeLeaves(blkPaddr + i * splitSize, protLo, protHi, level, 1, tablep + i * 8);
    }
    this.writePte(ptep, addressLo(tablep) | PTE_TYPE_TABLE, addressHi(tablep));
    if (unmapStart >= 0) {
      for (let i = 0; i < count; i++) this.tlb.tlb_add_page(iova + i * size, size);
      return count * size;
    }
    return this.unmapAt(iova, size, pgcount, level, tablep);
  }

  // __arm_lpae_free_pgtable.
  private freePgtable(level: number, table: number): void {
    const tableSize = level === this.startLevel ? this.pgdSize : this.granule;
    if (level < MAX_LEVELS - 1) {
      for (let at = table; at < table + tableSize; at += 8) {
        this.readPte(at);
        if ((this.lo === 0 && this.hi === 0) || this.isLeaf(this.lo, level)) continue;
        this.freePgtable(level + 1, pteAddress(this.lo, this.hi));
      }
    }
    this.allocator.free(table, tableSize);
  }
}
