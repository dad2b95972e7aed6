import { KernelError } from '@vfiokit/core';

/** `struct arm_smmu_smr`. */
export interface ArmSmmuSmr {
  id: number;
  mask: number;
  valid: boolean;
}

/** `struct arm_smmu_s2cr`, with the group it was last handed to (`s2cr->group`). */
export interface ArmSmmuS2cr<G> {
  /** Masters using this stream map entry (`s2cr->count`). */
  count: number;
  group: G | null;
  /** `S2CR_TYPE_*`. */
  type: number;
  cbndx: number;
}

/** `ARM_SMMU_SMR_ID` / `ARM_SMMU_SMR_MASK`: arm-smmu packs a fwspec id as mask << 16 | id. */
export function smrId(fwid: number): number {
  return fwid & 0xffff;
}
export function smrMask(fwid: number): number {
  return (fwid >>> 16) & 0xffff;
}

/**
 * The stream-mapping bookkeeping of drivers/iommu/arm/arm-smmu/arm-smmu.c (Linux 6.12), with
 * no hardware access: `arm_smmu_find_sme`, `arm_smmu_master_alloc_smes`,
 * `arm_smmu_free_sme` and the group lookup of `arm_smmu_device_group`. Entries are the SMR +
 * S2CR pairs ("stream map entries"); the caller writes the ones a call changed.
 */
export class ArmSmmuStreamMap<G> {
  readonly smrs: ArmSmmuSmr[];
  readonly s2crs: ArmSmmuS2cr<G>[];
  private readonly initType: number;

  /**
   * @param entries `num_mapping_groups` (ID0.NUMSMRG).
   * @param initType `s2cr_init_val.type`: FAULT with `disable_bypass` (the default), else BYPASS.
   */
  constructor(entries: number, initType: number) {
    this.initType = initType;
    this.smrs = Array.from({ length: entries }, () => ({ id: 0, mask: 0, valid: false }));
    this.s2crs = Array.from({ length: entries }, () => ({ count: 0, group: null, type: initType, cbndx: 0 }));
  }

  /**
   * `arm_smmu_find_sme`: an entry that already matches all of (id, mask) is reused; any other
   * overlap with a valid entry is `EINVAL` (some stream ID would match two entries); else the
   * first free entry, `ENOSPC` when none is.
   */
  findSme(id: number, mask: number): number {
    let free = -1;
    for (let i = 0; i < this.smrs.length; i++) {
      const smr = this.smrs[i]!;
      if (!smr.valid) {
        if (free < 0) free = i;
        continue;
      }
      // Entirely matched by an existing entry: reuse it.
      if ((mask & smr.mask) === mask && ((id ^ smr.id) & ~smr.mask & 0xffff) === 0) return i;
      // Any other overlap: some stream ID would match both.
      if (((id ^ smr.id) & ~(smr.mask | mask) & 0xffff) === 0)
        throw new KernelError(
          'EINVAL',
          `SMR ${hex(id)}/${hex(mask)} overlaps entry ${i} (${hex(smr.id)}/${hex(smr.mask)})`,
        );
    }
    if (free < 0) throw new KernelError('ENOSPC', 'no free stream map entry');
    return free;
  }

  /**
   * `arm_smmu_master_alloc_smes`: one entry per fwspec id (a new entry takes the id and mask
   * and becomes valid; a reused one counts one more master). All or nothing: on an error the
   * entries taken so far are freed again. Returns the entry index of each id (`cfg->smendx`).
   */
  allocSmes(fwids: readonly number[]): number[] {
    const smendx: number[] = [];
    try {
      for (const fwid of fwids) {
        const idx = this.findSme(smrId(fwid), smrMask(fwid));
        const smr = this.smrs[idx]!;
        const s2cr = this.s2crs[idx]!;
        if (s2cr.count === 0) {
          smr.id = smrId(fwid);
          smr.mask = smrMask(fwid);
          smr.valid = true;
        }
        s2cr.count++;
        smendx.push(idx);
      }
    } catch (error) {
      for (const idx of smendx) this.freeSme(idx);
      throw error;
    }
    return smendx;
  }

  /**
   * `arm_smmu_free_sme`: one master fewer; the last one resets the S2CR to its initial value
   * (forgetting the group) and invalidates the SMR. Returns whether the entry changed.
   */
  freeSme(idx: number): boolean {
    const s2cr = this.s2crs[idx]!;
    if (--s2cr.count > 0) return false;
    s2cr.count = 0;
    s2cr.group = null;
    s2cr.type = this.initType;
    s2cr.cbndx = 0;
    this.smrs[idx]!.valid = false;
    return true;
  }

  /**
   * `arm_smmu_device_group`: the group already behind the master's entries, `EINVAL` when
   * they lead to two different groups, or `alloc()` (generic_device_group) remembered in
   * every entry. As in the kernel, the remembered value is the last entry's, so entries
   * [G, none] give a new group that then replaces G in the first entry too.
   */
  deviceGroup(smendx: readonly number[], alloc: () => G): G {
    let group: G | null = null;
    for (const idx of smendx) {
      const held = this.s2crs[idx]!.group;
      if (group !== null && held !== null && group !== held)
        throw new KernelError('EINVAL', `stream map entries of one master lead to two IOMMU groups`);
      group = held;
    }
    if (group !== null) return group;
    const created = alloc();
    for (const idx of smendx) this.s2crs[idx]!.group = created;
    return created;
  }
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
