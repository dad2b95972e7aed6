import { KernelError } from '@vfiokit/core';
import { perDeviceMsiIsolation } from '../profile.js';
import type { Task } from '../user/task.js';
import { populateBitmapFull } from './dirty.js';
import type { VfioDma } from './dma.js';
import { aperResize, apertureOf, countsAsReserved, resvExclude } from './iova-list.js';
import { mapIntoDomain, pinDma, unmapUnpin, unpinDma } from './pin.js';
import type { Type1Domain, Type1Group, Type1Iommu } from './type1-iommu.js';
import { removeDma } from './unmap.js';

/**
 * `vfio_iommu_type1_attach_group` (drivers/vfio/vfio_iommu_type1.c): `EBUSY` while user
 * addresses are invalidated; `EINVAL` for a group attached already; emulated groups only join
 * the list. A real group gets a new paging domain: `EINVAL` when existing mappings fall outside
 * its aperture or inside its reserved regions, or nothing usable is left; `EPERM` when its MSIs
 * are not isolated and `allow_unsafe_interrupts` is off (per device since v6.3, system-wide
 * before); then existing mappings are replayed (pinned on the first domain) into the domain.
 */
export function type1AttachGroup(iommu: Type1Iommu, current: Task, group: Type1Group): void {
  if (iommu.vaddrInvalidCount !== 0)
    throw new KernelError('EBUSY', 'user addresses are invalidated (VFIO_DMA_UNMAP_FLAG_VADDR)');
  if (iommu.hasGroup(group)) throw new KernelError('EINVAL', `group ${group.id} is attached already`);
  if (group.kind === 'emulated') {
    iommu.emulatedGroups.add(group.id);
    return;
  }
  const iommuGroup = group.iommuGroup;
  const domain = iommuGroup.allocateDomain();
  // iommu_enable_nesting (before v6.13): -EINVAL unless the IOMMU driver has `enable_nesting`
  // (arm-smmu and arm-smmu-v3 had it); a domain offers it as an `enableNesting()` method.
  if (iommu.nesting) {
    const nestable = domain as { enableNesting?: () => void };
    if (typeof nestable.enableNesting !== 'function')
      throw new KernelError('EINVAL', 'iommu_enable_nesting: the domain cannot nest');
    nestable.enableNesting();
  }
  iommuGroup.attachDomain(domain);
  try {
    const aperture = apertureOf(domain);
    for (const dma of iommu.dmas.all()) {
      if (BigInt(dma.iova) < aperture.start || BigInt(dma.iova) + BigInt(dma.size) - 1n > aperture.end) {
        throw new KernelError(
          'EINVAL',
          `mapping 0x${dma.iova.toString(16)} lies outside the new domain's aperture`,
        );
      }
    }
    const reserved = domain.reservedRegions();
    for (const region of reserved) {
      if (!countsAsReserved(region) || iommu.dmas.find(region.start, region.size) === undefined) continue;
      throw new KernelError('EINVAL', `a mapping overlaps reserved region 0x${region.start.toString(16)}`);
    }
    const iovaList = resvExclude(aperResize(iommu.iovaList, aperture), reserved);
    if (iovaList.length === 0) throw new KernelError('EINVAL', 'no usable IOVA range is left');
    const isolated = perDeviceMsiIsolation(iommu.env.profile)
      ? iommuGroup.devices.every((d) => iommu.env.msiIsolation.deviceHasIsolatedMsi(d))
      : iommu.env.msiIsolation.systemHasIsolatedMsi();
    if (!iommu.env.params.allowUnsafeInterrupts && !isolated) {
      throw new KernelError(
        'EPERM',
        'vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform',
      );
    }
    // NOT IN LINUX: seed 004's opt-in policy (every device sharing a non-isolating MSI frame is
    // VFIO-bound or unbound, and in this container); absent, this is upstream type1.
    iommu.env.msiIsolation.checkAttach?.(iommuGroup.devices, iommu);
    if (joinCompatibleDomain(iommu, iommuGroup, domain)) {
      iommu.iovaList = iovaList;
      return;
    }
    const swMsi = reserved.find((r) => r.type === 'sw-msi');
    const entry: Type1Domain = { domain, groups: [iommuGroup], msiCookie: swMsi?.start };
    replay(iommu, current, entry);
    iommu.domains.push(entry);
    iommu.updatePgsizeBitmap();
    iommu.iovaList = iovaList;
  } catch (error) {
    // out_detach / out_domain: the group leaves the new domain, which is freed.
    if (iommuGroup.domain === domain) iommuGroup.detachDomain(domain);
    domain.free?.();
    throw error;
  }
}

/**
 * "Try to match an existing compatible domain" (vfio_iommu_type1_attach_group): for each
 * domain of the container with the same `ops` (the same IOMMU driver; enforce_cache_coherency
 * is false for every Arm SMMU domain), the group leaves its new domain and tries the existing
 * one; if the driver accepts (the same SMMU instance), the new domain is freed and the group
 * shares the existing domain's tables and context. Otherwise it goes back to its new domain.
 * Returns whether the group joined an existing domain.
 */
function joinCompatibleDomain(
  iommu: Type1Iommu,
  iommuGroup: Type1Domain['groups'][number],
  domain: Type1Domain['domain'],
): boolean {
  if (domain.ops === undefined) return false;
  for (const existing of iommu.domains) {
    if (existing.domain.ops !== domain.ops) continue;
    iommuGroup.detachDomain(domain);
    try {
      iommuGroup.attachDomain(existing.domain);
    } catch {
      iommuGroup.attachDomain(domain);
      continue;
    }
    existing.groups.push(iommuGroup);
    domain.free?.();
    return true;
  }
  return false;
}

// vfio_iommu_replay: the first IOMMU domain pins every recorded mapping (they were only
// recorded so far); later domains map what is pinned already. Unwinds on failure.
function replay(iommu: Type1Iommu, current: Task, entry: Type1Domain): void {
  const first = !iommu.hasDomain;
  const done: VfioDma[] = [];
  try {
    for (const dma of iommu.dmas.all()) {
      if (first) dma.pinned = pinDma(dma, current.rlimitMemlock);
      try {
        mapIntoDomain(entry, dma);
      } catch (error) {
        if (first) unpinDma(dma);
        throw error;
      }
      done.push(dma);
    }
  } catch (error) {
    for (const dma of done) {
      for (const chunk of dma.pinned) entry.domain.unmap(chunk.iova, chunk.size);
      if (first) unpinDma(dma);
    }
    throw error;
  }
}

/**
 * `vfio_iommu_type1_detach_group`: the group leaves its domain; the last IOMMU domain going
 * away unmaps and unpins everything, and drops the mappings too unless emulated groups remain
 * (they keep them recorded, `vfio_iommu_unmap_unpin_reaccount`).
 */
export function type1DetachGroup(iommu: Type1Iommu, group: Type1Group): void {
  if (group.kind === 'emulated') {
    if (!iommu.emulatedGroups.delete(group.id))
      throw new KernelError('EINVAL', `group ${group.id} is not attached`);
    if (iommu.emulatedGroups.size === 0 && !iommu.hasDomain)
      for (const dma of [...iommu.dmas.all()]) removeDma(iommu, dma);
    return;
  }
  const at = iommu.domains.findIndex((d) => d.groups.includes(group.iommuGroup));
  const entry = iommu.domains[at];
  if (entry === undefined) throw new KernelError('EINVAL', `group ${group.id} is not attached`);
  // detach_group_done: a group that could not report dirty pages leaves; while tracking, every
  // page it could have written is dirty (vfio_iommu_populate_bitmap_full).
  if (iommu.dirtyPageTracking) populateBitmapFull(iommu);
  if (iommu.domains.length === 1 && entry.groups.length === 1) {
    if (iommu.emulatedGroups.size === 0) for (const dma of [...iommu.dmas.all()]) removeDma(iommu, dma);
    else for (const dma of iommu.dmas.all()) unmapUnpinReaccount(iommu, dma);
  }
  group.iommuGroup.detachDomain(entry.domain);
  entry.groups.splice(entry.groups.indexOf(group.iommuGroup), 1);
  if (entry.groups.length === 0) {
    for (const dma of iommu.dmas.all())
      for (const chunk of dma.pinned) entry.domain.unmap(chunk.iova, chunk.size);
    // iommu_domain_free: the driver gets its context bank / ASID and the tables back.
    entry.domain.free?.();
    iommu.domains.splice(at, 1);
    iommu.updatePgsizeBitmap();
    iommu.iovaList = recomputeIovaList(iommu);
  }
}

// vfio_iommu_aper_expand + vfio_iommu_resv_refresh: the list for the domains that remain.
function recomputeIovaList(iommu: Type1Iommu): Type1Iommu['iovaList'] {
  let list: Type1Iommu['iovaList'] = [];
  for (const d of iommu.domains) list = aperResize(list, apertureOf(d.domain));
  for (const d of iommu.domains) list = resvExclude(list, d.domain.reservedRegions());
  return list;
}

// vfio_iommu_unmap_unpin_reaccount: the IOMMU pins go, and the pages emulated devices still
// pin are charged again (while a domain existed the IOMMU pin covered them).
function unmapUnpinReaccount(iommu: Type1Iommu, dma: VfioDma): void {
  unmapUnpin(iommu, dma);
  for (const pfn of dma.pfnList.values()) {
    if (pfn.accounted) continue;
    pfn.accounted = true;
    dma.mm.lockedVm++;
  }
}
