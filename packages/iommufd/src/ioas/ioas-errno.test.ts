import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { testContext, testGroup, testTask } from '../test-support/fixture.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
} from '../uapi/constants.js';
import { U64_MAX, ULONG_MAX } from './bits.js';

// One row per bad argument of each IOAS ioctl, citing the line of Linux 6.12 that returns it
// (drivers/iommu/iommufd/*.c of Debian's 6.12.118 tree).
const UVA = 0x10_0000;

function setup() {
  const ctx = testContext();
  const ioas = ctx.ioasAlloc();
  return { ctx, ioas };
}

describe('IOMMU_IOAS_ALLOC errnos', () => {
  it('ioas.c:44 any flag is EOPNOTSUPP', () => {
    const { ctx } = setup();
    expect(thrownErrno(() => ctx.ioasAlloc({ flags: 1 }))).toBe('EOPNOTSUPP');
  });
  it('ids are the lowest free from 1 (xa_alloc, XA_FLAGS_ALLOC1) and are reused after destroy', () => {
    const { ctx, ioas } = setup();
    expect(ioas).toBe(1);
    expect(ctx.ioasAlloc()).toBe(2);
    ctx.destroy(1);
    expect(ctx.ioasAlloc()).toBe(1);
  });
});

describe('IOMMU_IOAS_MAP errnos', () => {
  const rows: [string, (ctx: ReturnType<typeof setup>) => unknown, string][] = [
    [
      'ioas.c:212 unknown flag',
      ({ ctx, ioas }) => ctx.ioasMap({ flags: R | 8, ioas_id: ioas, user_va: UVA, length: 4096 }),
      'EOPNOTSUPP',
    ],
    [
      'ioas.c:212 __reserved',
      ({ ctx, ioas }) => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 4096, __reserved: 1 }),
      'EOPNOTSUPP',
    ],
    [
      'ioas.c:214 iova ULONG_MAX',
      ({ ctx, ioas }) =>
        ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: UVA, length: 4096, iova: ULONG_MAX }),
      'EOVERFLOW',
    ],
    [
      'ioas.c:214 length ULONG_MAX',
      ({ ctx, ioas }) => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: ULONG_MAX }),
      'EOVERFLOW',
    ],
    [
      'ioas.c:218 neither READABLE nor WRITEABLE',
      ({ ctx, ioas }) => ctx.ioasMap({ flags: FIXED, ioas_id: ioas, user_va: UVA, length: 4096 }),
      'EINVAL',
    ],
    [
      'main.c:140 no such IOAS',
      ({ ctx }) => ctx.ioasMap({ flags: R, ioas_id: 99, user_va: UVA, length: 4096 }),
      'ENOENT',
    ],
    [
      'pages.c:1153 length 0',
      ({ ctx, ioas }) => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 0 }),
      'EINVAL',
    ],
    [
      'pages.c:1156 user_va + length wraps',
      ({ ctx, ioas }) => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: ULONG_MAX - 4095n, length: 8192 }),
      'EOVERFLOW',
    ],
    [
      'io_pagetable.c:200 FIXED over a mapping',
      ({ ctx, ioas }) => {
        ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: UVA, length: 8192, iova: 0x1000_0000 });
        return ctx.ioasMap({
          flags: R | FIXED,
          ioas_id: ioas,
          user_va: UVA,
          length: 4096,
          iova: 0x1000_1000,
        });
      },
      'EEXIST',
    ],
    [
      'io_pagetable.c:192 FIXED iova + length wraps',
      ({ ctx, ioas }) =>
        ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: UVA, length: 8192, iova: ULONG_MAX - 4096n }),
      'EOVERFLOW',
    ],
  ];
  for (const [name, run, errno] of rows)
    it(`${name} is ${errno}`, () => {
      expect(thrownErrno(() => run(setup()))).toBe(errno);
    });

  it('io_pagetable.c:271 with a 4K domain attached, an unaligned length is EINVAL; io_pagetable.c:189 an unaligned FIXED iova too', () => {
    const { ctx, ioas } = setup();
    const idev = ctx.deviceBind({ group: testGroup(), device: 'dev0' });
    ctx.deviceAttach(idev, ioas);
    expect(thrownErrno(() => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 100 }))).toBe(
      'EINVAL',
    );
    expect(
      thrownErrno(() =>
        ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: UVA, length: 4096, iova: 0x1000_0800 }),
      ),
    ).toBe('EINVAL');
  });

  it('without a domain, a map of unmapped user memory succeeds: pages are pinned lazily (iopt_area_fill_domains returns early)', () => {
    const { ctx, ioas } = setup();
    expect(
      ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: 0x7000_0000, length: 4096, iova: 0x1000 }),
    ).toBe(0x1000n);
    expect(ctx.pinnedPages()).toBe(0);
  });

  it('with a domain, a map of unmapped user memory is EFAULT (pin_user_pages) and leaves nothing mapped', () => {
    const { ctx, ioas } = setup();
    ctx.deviceAttach(ctx.deviceBind({ group: testGroup(), device: 'dev0' }), ioas);
    expect(
      thrownErrno(() => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x7000_0000, length: 4096 })),
    ).toBe('EFAULT');
    expect(ctx.ioasUnmap({ ioas_id: ioas, iova: 0, length: U64_MAX })).toBe(0n);
  });

  it('io_pagetable.c:196 a FIXED map over a reserved region (the SW MSI window) is EINVAL', () => {
    const { ctx, ioas } = setup();
    const group = testGroup({
      reservedRegions: [{ start: 0x800_0000 as never, size: 0x10_0000, type: 'sw-msi', prot: 0 }],
    });
    ctx.deviceAttach(ctx.deviceBind({ group, device: 'dev0' }), ioas);
    expect(
      thrownErrno(() =>
        ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: UVA, length: 4096, iova: 0x800_0000 }),
      ),
    ).toBe('EINVAL');
  });

  it('iopt_alloc_iova picks the lowest free page-aligned IOVA above PAGE_SIZE and skips reserved ranges', () => {
    const { ctx, ioas } = setup();
    ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [{ start: 0x800_0000, last: 0x80f_ffff }] });
    expect(ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 0x2000 })).toBe(0x800_0000n);
    expect(ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 0x1000 })).toBe(0x800_2000n);
  });

  it('io_pagetable.c:178 no room in the allowed ranges is ENOSPC', () => {
    const { ctx, ioas } = setup();
    ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [{ start: 0x1_0000, last: 0x1_ffff }] });
    expect(thrownErrno(() => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 0x2_0000 }))).toBe(
      'ENOSPC',
    );
  });
});

describe('IOMMU_IOAS_UNMAP errnos', () => {
  function mapped() {
    const s = setup();
    s.ctx.ioasMap({ flags: R | FIXED, ioas_id: s.ioas, user_va: UVA, length: 0x4000, iova: 0x10_0000 });
    return s;
  }
  it('main.c:140 no such IOAS is ENOENT', () => {
    const { ctx } = mapped();
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: 7, iova: 0, length: 4096 }))).toBe('ENOENT');
  });
  it('ioas.c:313 iova or length ULONG_MAX (not the unmap-all pair) is EOVERFLOW', () => {
    const { ctx, ioas } = mapped();
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 1, length: ULONG_MAX }))).toBe('EOVERFLOW');
  });
  it('io_pagetable.c:767 length 0 is EINVAL', () => {
    const { ctx, ioas } = mapped();
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 0x10_0000, length: 0 }))).toBe('EINVAL');
  });
  it('io_pagetable.c:689 a range that cuts an area is ENOENT and unmaps nothing of it', () => {
    const { ctx, ioas } = mapped();
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 0x10_0000, length: 0x1000 }))).toBe(
      'ENOENT',
    );
    expect(ctx.ioasUnmap({ ioas_id: ioas, iova: 0x10_0000, length: 0x4000 })).toBe(0x4000n);
  });
  it('ioas.c:321 nothing mapped in the range is ENOENT, but iova 0 length U64_MAX is 0 bytes', () => {
    const { ctx, ioas } = setup();
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 0x10_0000, length: 0x1000 }))).toBe(
      'ENOENT',
    );
    expect(ctx.ioasUnmap({ ioas_id: ioas, iova: 0, length: U64_MAX })).toBe(0n);
  });
  it('a range covering several whole areas unmaps them all and returns the sum', () => {
    const { ctx, ioas } = mapped();
    ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: UVA, length: 0x1000, iova: 0x20_0000 });
    expect(ctx.ioasUnmap({ ioas_id: ioas, iova: 0, length: 0x100_0000 })).toBe(0x5000n);
  });
});

describe('IOMMU_IOAS_COPY errnos', () => {
  function two() {
    const s = setup();
    const dst = s.ctx.ioasAlloc();
    s.ctx.ioasMap({ flags: R | FIXED, ioas_id: s.ioas, user_va: UVA, length: 0x4000, iova: 0x10_0000 });
    return { ...s, dst };
  }
  const rows: [string, (s: ReturnType<typeof two>) => unknown, string][] = [
    [
      'ioas.c:255 unknown flag',
      ({ ctx, ioas, dst }) =>
        ctx.ioasCopy({
          flags: R | 16,
          src_ioas_id: ioas,
          dst_ioas_id: dst,
          length: 4096,
          src_iova: 0x10_0000,
        }),
      'EOPNOTSUPP',
    ],
    [
      'ioas.c:258 length ULONG_MAX',
      ({ ctx, ioas, dst }) =>
        ctx.ioasCopy({
          flags: R,
          src_ioas_id: ioas,
          dst_ioas_id: dst,
          length: ULONG_MAX,
          src_iova: 0x10_0000,
        }),
      'EOVERFLOW',
    ],
    [
      'ioas.c:262 no access flag',
      ({ ctx, ioas, dst }) =>
        ctx.ioasCopy({ flags: 0, src_ioas_id: ioas, dst_ioas_id: dst, length: 4096, src_iova: 0x10_0000 }),
      'EINVAL',
    ],
    [
      'main.c:140 no source IOAS',
      ({ ctx, dst }) =>
        ctx.ioasCopy({ flags: R, src_ioas_id: 50, dst_ioas_id: dst, length: 4096, src_iova: 0x10_0000 }),
      'ENOENT',
    ],
    [
      'io_pagetable.c:628 length 0',
      ({ ctx, ioas, dst }) =>
        ctx.ioasCopy({ flags: R, src_ioas_id: ioas, dst_ioas_id: dst, length: 0, src_iova: 0x10_0000 }),
      'EINVAL',
    ],
    [
      'io_pagetable.c:649 source not fully mapped',
      ({ ctx, ioas, dst }) =>
        ctx.ioasCopy({ flags: R, src_ioas_id: ioas, dst_ioas_id: dst, length: 0x5000, src_iova: 0x10_0000 }),
      'ENOENT',
    ],
    [
      'main.c:140 no destination IOAS',
      ({ ctx, ioas }) =>
        ctx.ioasCopy({ flags: R, src_ioas_id: ioas, dst_ioas_id: 51, length: 4096, src_iova: 0x10_0000 }),
      'ENOENT',
    ],
  ];
  for (const [name, run, errno] of rows)
    it(`${name} is ${errno}`, () => {
      expect(thrownErrno(() => run(two()))).toBe(errno);
    });
  it('io_pagetable.c:215 a writeable copy of read-only pages is EPERM', () => {
    const { ctx, ioas, dst } = two();
    expect(
      thrownErrno(() =>
        ctx.ioasCopy({
          flags: R | W,
          src_ioas_id: ioas,
          dst_ioas_id: dst,
          length: 4096,
          src_iova: 0x10_0000,
        }),
      ),
    ).toBe('EPERM');
  });
  it('a copy of the middle of an area maps that slice at the chosen IOVA', () => {
    const { ctx, ioas, dst } = two();
    const at = ctx.ioasCopy({
      flags: R | FIXED,
      src_ioas_id: ioas,
      dst_ioas_id: dst,
      length: 0x2000,
      src_iova: 0x10_1000,
      dst_iova: 0x50_0000,
    });
    expect(at).toBe(0x50_0000n);
    expect(ctx.ioasUnmap({ ioas_id: dst, iova: 0x50_0000, length: 0x2000 })).toBe(0x2000n);
  });
});

describe('IOMMU_IOAS_IOVA_RANGES and IOMMU_IOAS_ALLOW_IOVAS errnos', () => {
  it('ioas.c:72 __reserved is EOPNOTSUPP; main.c:140 no IOAS is ENOENT', () => {
    const { ctx, ioas } = setup();
    expect(thrownErrno(() => ctx.ioasIovaRanges({ ioas_id: ioas, __reserved: 1 }))).toBe('EOPNOTSUPP');
    expect(thrownErrno(() => ctx.ioasIovaRanges({ ioas_id: 9 }))).toBe('ENOENT');
  });
  it('an empty IOAS allows all of [0, ULONG_MAX] with alignment 1; a 48-bit 4K domain and the SW MSI window cut it', () => {
    const { ctx, ioas } = setup();
    expect(ctx.ioasIovaRanges({ ioas_id: ioas })).toEqual({
      ranges: [{ start: 0n, last: ULONG_MAX }],
      out_iova_alignment: 1n,
    });
    const group = testGroup({
      reservedRegions: [{ start: 0x800_0000 as never, size: 0x10_0000, type: 'sw-msi', prot: 0 }],
    });
    ctx.deviceAttach(ctx.deviceBind({ group, device: 'dev0' }), ioas);
    expect(ctx.ioasIovaRanges({ ioas_id: ioas })).toEqual({
      ranges: [
        { start: 0n, last: 0x7ff_ffffn },
        { start: 0x810_0000n, last: (1n << 48n) - 1n },
      ],
      out_iova_alignment: 4096n,
    });
  });
  it('ioas.c:152 __reserved is EOPNOTSUPP; ioas.c:126 start >= last is EINVAL; ioas.c:129 overlapping ranges are EINVAL', () => {
    const { ctx, ioas } = setup();
    expect(thrownErrno(() => ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [], __reserved: 1 }))).toBe(
      'EOPNOTSUPP',
    );
    expect(
      thrownErrno(() => ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [{ start: 5, last: 5 }] })),
    ).toBe('EINVAL');
    expect(
      thrownErrno(() =>
        ctx.ioasAllowIovas({
          ioas_id: ioas,
          allowed_iovas: [
            { start: 0, last: 0x2000 },
            { start: 0x2000, last: 0x3000 },
          ],
        }),
      ),
    ).toBe('EINVAL');
  });
  it('io_pagetable.c:796 an allowed range over a reserved one is EADDRINUSE; io_pagetable.c:812 a device whose region is allowed cannot attach', () => {
    const { ctx, ioas } = setup();
    const group = testGroup({
      reservedRegions: [{ start: 0x800_0000 as never, size: 0x10_0000, type: 'sw-msi', prot: 0 }],
    });
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [{ start: 0x800_0000, last: 0x800_ffff }] });
    expect(thrownErrno(() => ctx.deviceAttach(idev, ioas))).toBe('EADDRINUSE');
    ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [] });
    ctx.deviceAttach(idev, ioas);
    expect(
      thrownErrno(() =>
        ctx.ioasAllowIovas({ ioas_id: ioas, allowed_iovas: [{ start: 0x800_0000, last: 0x800_ffff }] }),
      ),
    ).toBe('EADDRINUSE');
  });
});

describe('IOMMU_OPTION errnos', () => {
  it('main.c:321 __reserved and main.c:331 an unknown option are EOPNOTSUPP', () => {
    const { ctx } = setup();
    expect(thrownErrno(() => ctx.option({ option_id: 0, op: 1, __reserved: 1 }))).toBe('EOPNOTSUPP');
    expect(thrownErrno(() => ctx.option({ option_id: 7, op: 1 }))).toBe('EOPNOTSUPP');
  });
  it('RLIMIT_MODE: ioas.c:338 object_id, ioas.c:348 no CAP_SYS_RESOURCE, ioas.c:352 objects exist, ioas.c:359 a value past 1, ioas.c:365 bad op', () => {
    const plain = testContext();
    expect(
      thrownErrno(() =>
        plain.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_GET, object_id: 1 }),
      ),
    ).toBe('EOPNOTSUPP');
    expect(
      thrownErrno(() =>
        plain.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, val64: 1 }),
      ),
    ).toBe('EPERM');
    const admin = testContext(testTask({ caps: ['CAP_SYS_RESOURCE'] }));
    expect(
      thrownErrno(() =>
        admin.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, val64: 2 }),
      ),
    ).toBe('EINVAL');
    expect(thrownErrno(() => admin.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: 5 }))).toBe(
      'EOPNOTSUPP',
    );
    expect(admin.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_GET })).toBe(0n);
    // main.c iommufd_option copies val64 back after a SET too (oracle iommufd-ioas).
    expect(admin.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, val64: 1 })).toBe(1n);
    expect(admin.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_GET })).toBe(1n);
    admin.ioasAlloc();
    expect(
      thrownErrno(() =>
        admin.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, val64: 0 }),
      ),
    ).toBe('EBUSY');
  });
  it('HUGE_PAGES: main.c:140 no IOAS, ioas.c:382 a value past 1, io_pagetable.c:1342 disabling with mapped domains is EINVAL', () => {
    const { ctx, ioas } = setup();
    expect(
      thrownErrno(() =>
        ctx.option({ option_id: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, object_id: 8 }),
      ),
    ).toBe('ENOENT');
    expect(
      thrownErrno(() =>
        ctx.option({
          option_id: IOMMU_OPTION_HUGE_PAGES,
          op: IOMMU_OPTION_OP_SET,
          object_id: ioas,
          val64: 3,
        }),
      ),
    ).toBe('EINVAL');
    expect(ctx.option({ option_id: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, object_id: ioas })).toBe(
      1n,
    );
    ctx.deviceAttach(ctx.deviceBind({ group: testGroup(), device: 'dev0' }), ioas);
    ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: UVA, length: 4096 });
    expect(
      thrownErrno(() =>
        ctx.option({
          option_id: IOMMU_OPTION_HUGE_PAGES,
          op: IOMMU_OPTION_OP_SET,
          object_id: ioas,
          val64: 0,
        }),
      ),
    ).toBe('EINVAL');
  });
  it('HUGE_PAGES 0 on an empty IOAS makes IOVAs page aligned', () => {
    const { ctx, ioas } = setup();
    ctx.option({ option_id: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, object_id: ioas, val64: 0 });
    expect(ctx.ioasIovaRanges({ ioas_id: ioas }).out_iova_alignment).toBe(4096n);
  });
});

describe('argument objects', () => {
  it('refuse unknown keys with EINVAL (a typo is not a silent 0)', () => {
    const { ctx, ioas } = setup();
    expect(
      thrownErrno(() => ctx.ioasMap({ flags: R, ioasid: ioas, user_va: UVA, length: 4096 } as never)),
    ).toBe('EINVAL');
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 0, length: 1, typo: 1 } as never))).toBe(
      'EINVAL',
    );
    expect(thrownErrno(() => ctx.option({ option_id: 0, op: 1, objectid: 1 } as never))).toBe('EINVAL');
  });
});
