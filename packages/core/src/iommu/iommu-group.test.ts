import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iova } from '../address.js';
import { FlatIommuDomain } from '../testing/flat-iommu-domain.js';
import { thrownErrno } from '../testing/thrown-errno.js';
import { IommuDmaOwnership } from './dma-ownership.js';
import { isIommuFault } from './iommu-domain.js';
import { IommuGroup } from './iommu-group.js';

const paging = () => new FlatIommuDomain({ pgsizeBitmap: 0x1000 });

function group(ownership = new IommuDmaOwnership()): IommuGroup {
  const g = new IommuGroup({ id: 3, allocateDomain: paging, ownership, iommu: '/iommu@2b500000' });
  g.addDevice({ device: 'a', streamIds: [1] });
  g.addDevice({ device: 'b', streamIds: [2] });
  return g;
}

describe('IommuGroup: drivers/iommu/iommu.c (Linux 6.12) domain and ownership rules', () => {
  it('members sit on the default domain (identity unless the IOMMU driver gives one)', () => {
    const g = group();
    expect(g.currentDomain).toBe(g.defaultDomain);
    expect(g.defaultDomain.type).toBe('identity');
    expect(g.defaultDomain.endpoints.map((e) => e.device)).toEqual(['a', 'b']);
    expect(g.domain).toBeNull();
    expect(g.iommu).toBe('/iommu@2b500000');
  });

  it('iommu_group_claim_dma_owner moves the group to the blocking domain (__iommu_take_dma_ownership)', () => {
    const g = group();
    const owner = {};
    g.claimDmaOwner(owner);
    expect(g.currentDomain.type).toBe('blocked');
    expect(g.ownerCnt).toBe(1);
    const fault = g.currentDomain.translate(iova(0x1000), 'read');
    expect(isIommuFault(fault) && fault.kind).toBe('blocked');
    expect(g.domain).toBeNull();
  });

  it('claim: EINVAL without an owner, EPERM while a kernel driver uses the group', () => {
    const g = group();
    expect(thrownErrno(() => g.claimDmaOwner(undefined as unknown as object))).toBe('EINVAL');
    g.deviceUseDefaultDomain('a');
    expect(thrownErrno(() => g.claimDmaOwner({}))).toBe('EPERM');
    g.deviceUnuseDefaultDomain('a');
    g.claimDmaOwner({});
  });

  it('claim: EBUSY when the group is not on its default domain (attached without ownership)', () => {
    const g = group();
    g.attachDomain(paging());
    expect(thrownErrno(() => g.claimDmaOwner({}))).toBe('EBUSY');
  });

  it('iommu_device_use_default_domain: EBUSY on an owned group; owner_cnt counts kernel users', () => {
    const ownership = new IommuDmaOwnership();
    const g = group(ownership);
    g.claimDmaOwner({});
    expect(thrownErrno(() => ownership.useDefaultDomain(3))).toBe('EBUSY');
    expect(g.ownerCnt).toBe(1);
  });

  it('iommu_device_use_default_domain: EBUSY while users hold a group moved off its default domain', () => {
    const ownership = new IommuDmaOwnership();
    const g = group(ownership);
    ownership.useDefaultDomain(3);
    g.attachDomain(paging());
    expect(thrownErrno(() => ownership.useDefaultDomain(3))).toBe('EBUSY');
  });

  it('attach moves every member; detach returns to blocking while owned, release to default', () => {
    const g = group();
    const owner = {};
    g.claimDmaOwner(owner);
    const d = paging();
    g.attachDomain(d);
    expect(g.domain).toBe(d);
    expect(d.endpoints.map((e) => e.device)).toEqual(['a', 'b']);
    expect(thrownErrno(() => g.attachDomain(paging()))).toBe('EBUSY');
    g.detachDomain(d);
    expect(g.currentDomain.type).toBe('blocked');
    expect(d.endpoints).toEqual([]);
    g.attachDomain(d);
    g.releaseDmaOwner(owner);
    expect(g.currentDomain).toBe(g.defaultDomain);
    expect(d.endpoints).toEqual([]);
    expect(g.ownerCnt).toBe(0);
  });

  it('a failing attach leaves every member where it was (__iommu_group_set_domain_internal undo)', () => {
    const g = group();
    g.claimDmaOwner({});
    const d = paging();
    const attach = d.attach.bind(d);
    d.attach = (endpoint) => {
      if (endpoint.device === 'b') throw new Error('refused');
      attach(endpoint);
    };
    expect(() => g.attachDomain(d)).toThrow('refused');
    expect(d.endpoints).toEqual([]);
    expect(g.currentDomain.type).toBe('blocked');
    expect(g.currentDomain.endpoints.map((e) => e.device).sort()).toEqual(['a', 'b']);
  });

  it('iommu_device_claim_dma_owner: the same owner counts again, another gets EPERM; the last release frees', () => {
    const g = group();
    const owner = {};
    g.deviceClaimDmaOwner('a', owner);
    g.deviceClaimDmaOwner('b', owner);
    expect(g.ownerCnt).toBe(2);
    expect(thrownErrno(() => g.deviceClaimDmaOwner('a', {}))).toBe('EPERM');
    g.deviceReleaseDmaOwner('a', owner);
    expect(g.owner).toBe(owner);
    g.deviceReleaseDmaOwner('b', owner);
    expect(g.owner).toBeNull();
    expect(g.currentDomain).toBe(g.defaultDomain);
  });

  it('the core-owned domains have no page tables: map is EINVAL (__iommu_map on a non-paging domain)', () => {
    const g = group();
    expect(thrownErrno(() => g.defaultDomain.map(iova(0), 0 as never, 0x1000, 3))).toBe('EINVAL');
  });

  it('options are checked', () => {
    expect(thrownErrno(() => new IommuGroup({ id: 1, allocateDomain: paging, bogus: 1 } as never))).toBe(
      'EINVAL',
    );
    expect(thrownErrno(() => new IommuGroup({ id: -1, allocateDomain: paging }))).toBe('EINVAL');
  });

  // Model-based: random sequences of the kernel calls against a small state machine written
  // from iommu.c's comments (not from this class). Fails, e.g., when claim stops moving to the
  // blocking domain or use_default_domain stops checking owner.
  it('property: ownership and domain state follow the iommu.c state machine', () => {
    type Op = 'use' | 'unuse' | 'claim' | 'release' | 'attach' | 'detach';
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<Op>('use', 'unuse', 'claim', 'release', 'attach', 'detach'), {
          maxLength: 40,
        }),
        (ops) => {
          const ownership = new IommuDmaOwnership();
          const g = group(ownership);
          const owner = {};
          let cnt = 0;
          let owned = false;
          let where: 'default' | 'blocking' | 'user' = 'default';
          let user: FlatIommuDomain | null = null;
          for (const op of ops) {
            let expected: string | undefined;
            if (op === 'use') expected = cnt > 0 && (owned || where !== 'default') ? 'EBUSY' : undefined;
            if (op === 'claim') expected = cnt > 0 ? 'EPERM' : where !== 'default' ? 'EBUSY' : undefined;
            if (op === 'release') expected = owned ? undefined : 'EINVAL';
            if (op === 'attach') expected = where === 'user' ? 'EBUSY' : undefined;
            if (op === 'detach') expected = where === 'user' ? undefined : 'EINVAL';
            const next = paging();
            const got = thrownErrno(() => {
              if (op === 'use') g.deviceUseDefaultDomain('a');
              if (op === 'unuse') g.deviceUnuseDefaultDomain('a');
              if (op === 'claim') g.claimDmaOwner(owner);
              if (op === 'release') g.releaseDmaOwner(owner);
              if (op === 'attach') g.attachDomain(next);
              if (op === 'detach') g.detachDomain(user ?? next);
            });
            expect(got).toBe(expected);
            if (expected !== undefined) continue;
            if (op === 'use') cnt++;
            if (op === 'unuse' && cnt > 0) cnt--;
            if (op === 'claim') [owned, cnt, where] = [true, 1, 'blocking'];
            if (op === 'release') [owned, cnt, where, user] = [false, 0, 'default', null];
            if (op === 'attach') [where, user] = ['user', next];
            if (op === 'detach') [where, user] = [owned ? 'blocking' : 'default', null];
            expect(g.ownerCnt).toBe(cnt);
            expect(g.owner !== null).toBe(owned);
            const type = { default: 'identity', blocking: 'blocked', user: 'unmanaged' }[where];
            expect(g.currentDomain.type).toBe(type);
          }
        },
      ),
    );
  });
});
