import { IOMMU_READ, IOMMU_WRITE, KernelError, PhysicalMemory, physAddr } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import type { VfioDeviceHandle } from '../api/device-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import type { VfioDevice, VfioDeviceOps } from '../device/vfio-device.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// The errno matrix of issue #12 item 2: every row runs on a container holding only an emulated
// group (vfio_register_emulated_iommu_dev, no IOMMU domain) and on one mixing that emulated
// group with an IOMMU-backed group (a test IOMMU group; type1 then pins at MAP_DMA). Each row
// cites the Linux 6.12 function (and condition) that produces its result.

const PHYS = 0x8000_0000;
const VADDR = 0x10_0000; // 1 MiB of RAM at PHYS
const HOLE_VADDR = 0x40_0000; // nothing mapped here
const PFN_VADDR = 0x50_0000; // an mmapped device region (VM_PFNMAP)
const RW = 0x4000_0000; // 4 pages, read/write, at VADDR
const RO = 0x4001_0000; // 1 page, read only, at VADDR + 0x4000
const WO = 0x4002_0000; // 1 page, write only, at VADDR + 0x5000
const PFN = 0x4003_0000; // 1 page of the device region
const NOWHERE = 0x7000_0000;

type Kind = 'emulated' | 'mixed';

interface Rig {
  readonly kind: Kind;
  readonly vfio: Vfio;
  readonly device: VfioDevice;
  readonly plain: VfioDevice;
  readonly process: UserProcess;
  readonly container: VfioContainerHandle;
  readonly fd: VfioDeviceHandle;
  readonly memory: PhysicalMemory;
  readonly state: { obliging: boolean; unmapCalls: number };
}

function rig(kind: Kind, type = VFIO_TYPE1v2_IOMMU): Rig {
  const vfio = new Vfio({ allowUnsafeInterrupts: true });
  const state = { obliging: true, unmapCalls: 0 };
  const pinned = new Map<number, number>();
  const memory = new PhysicalMemory();
  memory.allocate(physAddr(PHYS), 0x10_0000);
  const ops: VfioDeviceOps = {
    ...countingDeviceOps(),
    // An emulated device that unpins what it pinned when asked (when `obliging`).
    dmaUnmap: (iova, length) => {
      state.unmapCalls++;
      if (!state.obliging) return;
      for (const [page, count] of [...pinned]) {
        if (page < iova || page >= iova + length) continue;
        for (let i = 0; i < count; i++) vfio.unpinPages(device, page, 1);
        pinned.delete(page);
      }
    },
  };
  const device = vfio.registerEmulatedIommuDevice({ name: 'emu0', ops });
  const originalPin = vfio.pinPages.bind(vfio);
  // Track what the device pinned so its dma_unmap can release it.
  vfio.pinPages = (dev, iova, npage, prot) => {
    const pages = originalPin(dev, iova, npage, prot);
    if (dev === device)
      for (let i = 0; i < pages.length; i++) {
        const page = iova - (iova % 0x1000) + i * 0x1000;
        pinned.set(page, (pinned.get(page) ?? 0) + 1);
      }
    return pages;
  };
  // A second emulated device without dma_unmap (vfio_pin_pages refuses it).
  const plain = vfio.registerEmulatedIommuDevice({ name: 'plain0', ops: countingDeviceOps() });
  const process = new UserProcess({ vfio, rlimitMemlock: 0x10_0000, memory });
  process.addressSpace.mmap(VADDR, physAddr(PHYS), 0x10_0000);
  process.addressSpace.mapPfn(PFN_VADDR, physAddr(0x900_0000), 0x1000, {
    mmio: undefined,
    mmioOffset: 0,
    writable: true,
  });
  const container = VfioContainerHandle.open(process);
  const groupName = (dev: VfioDevice): string => vfio.groupOf(dev)?.name ?? '';
  const group = VfioGroupHandle.open(process, groupName(device));
  group.setContainer(container);
  const plainGroup = VfioGroupHandle.open(process, groupName(plain));
  plainGroup.setContainer(container);
  if (kind === 'mixed') {
    const iommuGroup = testIommuGroup({ id: 50, devices: [{ name: 'dev50' }] });
    vfio.registerGroupDevice({ name: 'dev50', ops: countingDeviceOps(), iommuGroup });
    VfioGroupHandle.open(process, '50').setContainer(container);
  }
  container.setIommu(type);
  container.mapDma({ vaddr: VADDR, iova: RW, size: 0x4000 });
  container.mapDma({ vaddr: VADDR + 0x4000, iova: RO, size: 0x1000, write: false });
  container.mapDma({ vaddr: VADDR + 0x5000, iova: WO, size: 0x1000, read: false });
  container.mapDma({ vaddr: PFN_VADDR, iova: PFN, size: 0x1000 });
  const fd = group.getDevice('emu0');
  plainGroup.getDevice('plain0');
  return { kind, vfio, device, plain, process, container, fd, memory, state };
}

type Outcome = 'ok' | KernelError['code'];

interface Row {
  readonly op: 'pin' | 'unpin' | 'dma_rw' | 'MAP_DMA' | 'UNMAP_DMA';
  readonly what: string;
  /** The kernel function and condition (Linux 6.12). */
  readonly kernel: string;
  readonly emulated: Outcome;
  readonly mixed: Outcome;
  readonly type?: number;
  readonly run: (h: Rig) => void;
  /** Extra checks after the call, per container kind. */
  readonly after?: (h: Rig) => void;
}

const data8 = (): Uint8Array => Uint8Array.from({ length: 8 }, (_, i) => i + 1);

const ROWS: readonly Row[] = [
  // --- vfio_pin_pages ---
  {
    op: 'pin',
    what: 'npage 0',
    kernel: 'vfio_main.c vfio_pin_pages: `!npage` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.pinPages(h.device, RW, 0, IOMMU_READ),
  },
  {
    op: 'pin',
    what: 'npage -1 pins nothing and returns 0',
    kernel:
      'vfio_main.c vfio_pin_pages checks only `!npage`; vfio_iommu_type1_pin_pages: loop skipped, `ret = i` (0)',
    emulated: 'ok',
    mixed: 'ok',
    run: (h) => expect(h.vfio.pinPages(h.device, RW, -1, IOMMU_READ)).toEqual([]),
  },
  {
    op: 'pin',
    what: 'device not open',
    kernel: 'vfio_main.c vfio_pin_pages: WARN_ON(!vfio_assert_device_open) → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => {
      h.fd.close();
      h.vfio.pinPages(h.device, RW, 1, IOMMU_READ);
    },
  },
  {
    op: 'pin',
    what: 'device without dma_unmap',
    kernel: 'vfio_main.c vfio_pin_pages: `!device->ops->dma_unmap` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.pinPages(h.plain, RW, 1, IOMMU_READ),
  },
  {
    op: 'pin',
    what: 'npage > VFIO_PIN_PAGES_MAX_ENTRIES (512)',
    kernel: 'container.c vfio_device_container_pin_pages: -E2BIG',
    emulated: 'E2BIG',
    mixed: 'E2BIG',
    run: (h) => h.vfio.pinPages(h.device, RW, 513, IOMMU_READ),
  },
  {
    op: 'pin',
    what: 'TYPE1 (v1) container',
    kernel: 'vfio_iommu_type1.c vfio_iommu_type1_pin_pages: `!iommu->v2` → -EACCES',
    emulated: 'EACCES',
    mixed: 'EACCES',
    type: VFIO_TYPE1_IOMMU,
    run: (h) => h.vfio.pinPages(h.device, RW, 1, IOMMU_READ),
  },
  {
    op: 'pin',
    what: 'IOVA no mapping covers',
    kernel: 'vfio_iommu_type1_pin_pages: `!vfio_find_dma` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.pinPages(h.device, NOWHERE, 1, IOMMU_READ),
  },
  {
    op: 'pin',
    what: 'pages run past the mapping: unwound, nothing stays pinned',
    kernel: 'vfio_iommu_type1_pin_pages: -EINVAL at page 4, pin_unwind unpins pages 0–3',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.pinPages(h.device, RW, 5, IOMMU_READ),
    after: (h) => {
      expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 0 : 6);
      h.vfio.pinPages(h.device, RW, 4, IOMMU_READ);
      h.vfio.unpinPages(h.device, RW, 4);
    },
  },
  {
    op: 'pin',
    what: 'write asked of a read-only mapping',
    kernel: 'vfio_iommu_type1_pin_pages: `(dma->prot & prot) != prot` → -EPERM',
    emulated: 'EPERM',
    mixed: 'EPERM',
    run: (h) => h.vfio.pinPages(h.device, RO, 1, IOMMU_READ | IOMMU_WRITE),
  },
  {
    op: 'pin',
    what: 'a page of an mmapped device region (VM_PFNMAP)',
    kernel:
      'vaddr_get_pfns finds the pfn (follow_fault_pfn); vfio_iommu_type1_pin_pages: `!pfn_valid` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.pinPages(h.device, PFN, 1, IOMMU_READ),
  },
  {
    op: 'pin',
    what: 'past RLIMIT_MEMLOCK: charged only without an IOMMU domain',
    kernel:
      'vfio_pin_page_external: vfio_lock_acct only if `do_accounting` (= list_empty(&iommu->domain_list)) → -ENOMEM',
    emulated: 'ENOMEM',
    mixed: 'ok',
    run: (h) => {
      h.process.rlimitMemlock = 0x2000;
      h.vfio.pinPages(h.device, RW, 3, IOMMU_READ);
    },
    after: (h) => expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 0 : 6),
  },
  {
    op: 'pin',
    what: 'an unaligned IOVA pins (and returns) its whole page',
    kernel: 'vfio_pin_page_external → vaddr_get_pfns: pages[i] = pfn_to_page(phys_pfn)',
    emulated: 'ok',
    mixed: 'ok',
    run: (h) => expect(h.vfio.pinPages(h.device, RW + 0x1234, 1, IOMMU_READ)).toEqual([PHYS + 0x1000]),
  },
  // --- vfio_unpin_pages (void in the kernel: WARNs are reported as EINVAL) ---
  {
    op: 'unpin',
    what: 'a page holding no pin is skipped; the pages after it are still unpinned',
    kernel: 'vfio_iommu_type1_unpin_pages → vfio_unpin_page_external: `!vpfn` → return 0, the loop goes on',
    emulated: 'ok',
    mixed: 'ok',
    run: (h) => {
      h.vfio.pinPages(h.device, RW, 1, IOMMU_READ);
      h.vfio.pinPages(h.device, RW + 0x2000, 1, IOMMU_READ);
      h.vfio.unpinPages(h.device, RW, 3);
    },
    after: (h) => {
      expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 0 : 6);
      expect(h.vfio.groupOf(h.device)?.container?.type1?.dmas.find(RW, 1)?.pfnList.size).toBe(0);
    },
  },
  {
    op: 'unpin',
    what: 'npage > VFIO_PIN_PAGES_MAX_ENTRIES unpins nothing',
    kernel:
      'container.c vfio_device_container_unpin_pages: WARN_ON(npage > VFIO_PIN_PAGES_MAX_ENTRIES) → return',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => {
      h.vfio.pinPages(h.device, RW, 1, IOMMU_READ);
      h.vfio.unpinPages(h.device, RW, 513);
    },
    after: (h) => expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 1 : 6),
  },
  {
    op: 'unpin',
    what: 'a page no mapping covers stops the walk there',
    kernel: 'vfio_iommu_type1_unpin_pages: `!dma` → break; WARN_ON(i != npage)',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => {
      h.vfio.pinPages(h.device, RW + 0x3000, 1, IOMMU_READ);
      h.vfio.unpinPages(h.device, RW + 0x3000, 2);
    },
    after: (h) => expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 0 : 6),
  },
  // --- vfio_dma_rw ---
  {
    op: 'dma_rw',
    what: 'length 0',
    kernel: 'vfio_main.c vfio_dma_rw: `len <= 0` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.dmaRw(h.device, h.memory, RW, new Uint8Array(0), true),
  },
  {
    op: 'dma_rw',
    what: 'device not open',
    kernel: 'vfio_main.c vfio_dma_rw: `!vfio_assert_device_open` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => {
      h.fd.close();
      h.vfio.dmaRw(h.device, h.memory, RW, data8(), true);
    },
  },
  {
    op: 'dma_rw',
    what: 'IOVA no mapping covers',
    kernel: 'vfio_iommu_type1_dma_rw_chunk: `!vfio_find_dma(iommu, user_iova, 1)` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.dmaRw(h.device, h.memory, NOWHERE, data8(), false),
  },
  {
    op: 'dma_rw',
    what: 'write into a read-only mapping',
    kernel: 'vfio_iommu_type1_dma_rw_chunk: `write && !(dma->prot & IOMMU_WRITE)` → -EPERM',
    emulated: 'EPERM',
    mixed: 'EPERM',
    run: (h) => h.vfio.dmaRw(h.device, h.memory, RO, data8(), true),
  },
  {
    op: 'dma_rw',
    what: 'read from a write-only mapping',
    kernel: 'vfio_iommu_type1_dma_rw_chunk: `!(dma->prot & IOMMU_READ)` → -EPERM',
    emulated: 'EPERM',
    mixed: 'EPERM',
    run: (h) => h.vfio.dmaRw(h.device, h.memory, WO, new Uint8Array(8), false),
  },
  {
    op: 'dma_rw',
    what: "from another process's context",
    kernel: 'vfio_iommu_type1_dma_rw_chunk: `current->mm != mm` → nothing copied → -EFAULT',
    emulated: 'EFAULT',
    mixed: 'EFAULT',
    run: (h) =>
      h.vfio.dmaRw(h.device, h.memory, RW, data8(), true, new UserProcess({ vfio: h.vfio, pid: 2 })),
  },
  {
    op: 'dma_rw',
    what: 'the owning process and a kernel thread copy',
    kernel: 'vfio_iommu_type1_dma_rw_chunk: kthread_use_mm for a kthread; copy_to_user / copy_from_user',
    emulated: 'ok',
    mixed: 'ok',
    run: (h) => {
      h.vfio.dmaRw(h.device, h.memory, RW + 0xffc, data8(), true, h.process);
      const back = new Uint8Array(8);
      h.vfio.dmaRw(h.device, h.memory, RW + 0xffc, back, false);
      expect([...back]).toEqual([...data8()]);
    },
  },
  {
    op: 'dma_rw',
    what: 'runs past the last mapping: the chunk before stays copied',
    kernel: 'vfio_iommu_type1_dma_rw: chunk 1 copied, chunk 2 `!vfio_find_dma` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.vfio.dmaRw(h.device, h.memory, RW + 0x3ffc, data8(), true),
    after: (h) => {
      const head = new Uint8Array(4);
      h.memory.read(physAddr(PHYS + 0x3ffc), head);
      expect([...head]).toEqual([1, 2, 3, 4]);
    },
  },
  {
    op: 'dma_rw',
    what: 'user memory ends inside the copy: the bytes before the hole stay copied',
    kernel:
      'vfio_iommu_type1_dma_rw_chunk: copy_to_user short → `*copied = 0` → -EFAULT (mixed: MAP_DMA of it already fails -EFAULT)',
    emulated: 'EFAULT',
    mixed: 'EFAULT',
    run: (h) => {
      h.container.mapDma({ vaddr: VADDR + 0xf_f000, iova: 0x4400_0000, size: 0x2000 });
      h.vfio.dmaRw(h.device, h.memory, 0x4400_0ffc, data8(), true);
    },
    after: (h) => {
      if (h.kind !== 'emulated') return;
      const head = new Uint8Array(4);
      h.memory.read(physAddr(PHYS + 0xf_fffc), head);
      expect([...head]).toEqual([1, 2, 3, 4]);
    },
  },
  // --- VFIO_IOMMU_MAP_DMA ---
  {
    op: 'MAP_DMA',
    what: 'IOVA 2^60 (no aperture without a domain)',
    kernel:
      'vfio_dma_do_map → vfio_iommu_iova_dma_valid: empty iova_list accepts all; a 48-bit domain narrows it → -EINVAL',
    emulated: 'ok',
    mixed: 'EINVAL',
    run: (h) => h.container.mapDma({ vaddr: VADDR, iova: 2n ** 60n, size: 0x1000 }),
  },
  {
    op: 'MAP_DMA',
    what: 'inside the SMMU SW_MSI window',
    kernel:
      'vfio_iommu_resv_exclude: the domain reserves 0x8000000 + 1 MiB → vfio_iommu_iova_dma_valid -EINVAL',
    emulated: 'ok',
    mixed: 'EINVAL',
    run: (h) => h.container.mapDma({ vaddr: VADDR, iova: 0x800_0000, size: 0x1000 }),
  },
  {
    op: 'MAP_DMA',
    what: 'user memory not mapped',
    kernel:
      'vfio_dma_do_map: only recorded while list_empty(&iommu->domain_list); else vfio_pin_map_dma → vaddr_get_pfns -EFAULT',
    emulated: 'ok',
    mixed: 'EFAULT',
    run: (h) => h.container.mapDma({ vaddr: HOLE_VADDR, iova: 0x4100_0000, size: 0x1000 }),
    after: (h) => {
      // On the emulated container the hole surfaces later: pin -EFAULT, dma_rw -EFAULT.
      if (h.kind !== 'emulated') return;
      expect(errnoOf(() => h.vfio.pinPages(h.device, 0x4100_0000, 1, IOMMU_READ))).toBe('EFAULT');
      expect(errnoOf(() => h.vfio.dmaRw(h.device, h.memory, 0x4100_0000, data8(), true))).toBe('EFAULT');
    },
  },
  {
    op: 'MAP_DMA',
    what: 'locked_vm: nothing charged without an IOMMU domain',
    kernel: 'vfio_dma_do_map: vfio_pin_map_dma only with a domain (vfio_pin_pages_remote → vfio_lock_acct)',
    emulated: 'ok',
    mixed: 'ok',
    run: (h) => h.container.mapDma({ vaddr: VADDR + 0x10000, iova: 0x4200_0000, size: 0x2000 }),
    after: (h) => expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 0 : 8),
  },
  {
    op: 'MAP_DMA',
    what: 'overlapping an existing mapping',
    kernel: 'vfio_dma_do_map: vfio_find_dma → -EEXIST',
    emulated: 'EEXIST',
    mixed: 'EEXIST',
    run: (h) => h.container.mapDma({ vaddr: VADDR, iova: RW + 0x1000, size: 0x1000 }),
  },
  {
    op: 'MAP_DMA',
    what: 'size not page aligned',
    kernel: 'vfio_dma_do_map: `size & (pgsize - 1)` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.container.mapDma({ vaddr: VADDR, iova: 0x4300_0000, size: 0x800 }),
  },
  // --- VFIO_IOMMU_UNMAP_DMA ---
  {
    op: 'UNMAP_DMA',
    what: 'VFIO_DMA_UNMAP_FLAG_VADDR with an emulated group attached',
    kernel: 'vfio_dma_do_unmap: "Cannot update vaddr if mdev is present" → -EBUSY',
    emulated: 'EBUSY',
    mixed: 'EBUSY',
    run: (h) => h.container.unmapDma({ iova: RW, size: 0x4000, vaddrOnly: true }),
  },
  {
    op: 'UNMAP_DMA',
    what: 'pinned pages: dma_unmap first, then removed',
    kernel: 'vfio_dma_do_unmap: pfn_list not empty → vfio_notify_dma_unmap → goto again',
    emulated: 'ok',
    mixed: 'ok',
    run: (h) => {
      h.vfio.pinPages(h.device, RW + 0x1000, 2, IOMMU_READ);
      expect(h.container.unmapDma({ iova: RW, size: 0x4000 })).toBe(0x4000n);
    },
    after: (h) => {
      expect(h.state.unmapCalls).toBe(1);
      expect(h.process.mm.lockedVm).toBe(h.kind === 'emulated' ? 0 : 2);
    },
  },
  {
    op: 'UNMAP_DMA',
    what: 'a device that does not unpin (the kernel BUG()s)',
    kernel: 'vfio_dma_do_unmap: BUG_ON(++retries > 10) — after 11 vfio_notify_dma_unmap calls',
    emulated: 'EBUSY',
    mixed: 'EBUSY',
    run: (h) => {
      h.vfio.pinPages(h.device, RW, 1, IOMMU_READ);
      h.state.obliging = false;
      h.container.unmapDma({ iova: RW, size: 0x4000 });
    },
    after: (h) => expect(h.state.unmapCalls).toBe(11),
  },
  {
    op: 'UNMAP_DMA',
    what: 'splitting a mapping (v2)',
    kernel: 'vfio_dma_do_unmap: `dma && dma->iova != iova` → -EINVAL',
    emulated: 'EINVAL',
    mixed: 'EINVAL',
    run: (h) => h.container.unmapDma({ iova: RW + 0x1000, size: 0x1000 }),
  },
];

function errnoOf(action: () => unknown): Outcome {
  try {
    action();
    return 'ok';
  } catch (error) {
    if (error instanceof KernelError) return error.code;
    throw error;
  }
}

describe('errno matrix: pin / dma_rw / MAP_DMA / UNMAP_DMA on emulated-only and mixed containers (Linux 6.12)', () => {
  for (const kind of ['emulated', 'mixed'] as const) {
    for (const row of ROWS) {
      it(`${kind} · ${row.op}: ${row.what} → ${row[kind]} (${row.kernel})`, () => {
        const h = rig(kind, row.type);
        expect(errnoOf(() => row.run(h))).toBe(row[kind]);
        row.after?.(h);
      });
    }
  }
});
