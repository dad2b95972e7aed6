import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Keeps the README's usage example honest: the same code, run. The first test proves the code
// run below is the README's (apart from its import lines), so the two cannot drift apart.

function codeLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('import ') && !line.startsWith('// --- README'));
}

describe('README example', () => {
  it('is the code this test runs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const self = readFileSync(new URL(import.meta.url), 'utf8');
    const start = self.lastIndexOf('// --- README example start ---');
    const end = self.lastIndexOf('// --- README example end ---');
    expect(block).toBeDefined();
    expect(codeLines(self.slice(start, end))).toEqual(codeLines(block ?? ''));
  });

  it('runs', async () => {
    const { physAddr } = await import('@vfiokit/core');
    const { UserProcess, Vfio, VfioContainerHandle, VfioGroupHandle } = await import('./index.js');
    const { VFIO_TYPE1v2_IOMMU } = await import('./uapi/index.js');
    const { countingDeviceOps, testIommuGroup } = await import('./testing/index.js');

    // --- README example start ---
    // The kernel side: VFIO with one device in IOMMU group 7.
    const vfio = new Vfio({ allowUnsafeInterrupts: true });
    const iommuGroup = testIommuGroup({ id: 7, devices: [{ name: 'fff50000.ethernet', streamIds: [0x20] }] });
    vfio.registerGroupDevice({ name: 'fff50000.ethernet', ops: countingDeviceOps(), iommuGroup });

    // The VMM: 256 MiB of guest RAM at a user address, backed by host RAM at 0x9000_0000.
    const vmm = new UserProcess({ vfio, rlimitMemlock: 1 << 30 });
    vmm.addressSpace.mmap(0x7f00_0000_0000, physAddr(0x9000_0000), 0x1000_0000);

    const container = VfioContainerHandle.open(vmm); // open("/dev/vfio/vfio")
    const group = VfioGroupHandle.open(vmm, 7); // open("/dev/vfio/7")
    group.setContainer(container); // VFIO_GROUP_SET_CONTAINER: claims DMA ownership
    container.setIommu(VFIO_TYPE1v2_IOMMU); // VFIO_SET_IOMMU
    container.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_0000, size: 0x1000_0000 });
    const { iovaRanges, dmaAvail } = container.iommuInfo(); // MSI window 0x8000000–0x80fffff excluded
    const device = group.getDevice('fff50000.ethernet'); // VFIO_GROUP_GET_DEVICE_FD
    device.close();
    // --- README example end ---

    expect(iovaRanges[0]).toEqual({ start: 0n, end: 0x7ff_ffffn });
    expect(dmaAvail).toBe(65534);
    expect(iommuGroup.domains[0]?.translate(0x4000_0010 as never, 'read')).toBe(0x9000_0010);
  });
});

describe('README: the entries', () => {
  // "The UAPI … is only in @vfiokit/vfio/uapi" (issue #9 item 26): no value the /uapi entry
  // exports is exported by the main entry, except UapiError, the error the handles throw.
  it('the main entry exports no UAPI value but UapiError', async () => {
    const main: Record<string, unknown> = await import('./index.js');
    const uapi: Record<string, unknown> = await import('./uapi/index.js');
    const shared = Object.keys(uapi).filter((name) => name in main);
    expect(shared).toEqual(['UapiError']);
    expect(main.UapiError).toBe(uapi.UapiError);
  });

  it('the /uapi entry has the ioctl numbers, flags and codecs the README names', async () => {
    const uapi: Record<string, unknown> = await import('./uapi/index.js');
    for (const name of ['VFIO_TYPE1v2_IOMMU', 'VFIO_IOMMU_MAP_DMA', 'vfioIommuType1DmaMap', 'UAPI_STRUCTS'])
      expect(uapi[name], name).toBeDefined();
  });
});
