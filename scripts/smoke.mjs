// Imports every built package through its published ESM entry, as a user's project would.
import { readdirSync, readFileSync } from 'node:fs';

const { EventFd, KernelError, PhysicalMemory, isKernelError } = await import('@vfiokit/core');
const error = new KernelError('EBUSY', 'smoke');
if (!isKernelError(error, 'EBUSY') || error.errno !== 16) throw new TypeError('core ESM: KernelError broken');
const memory = new PhysicalMemory();
memory.writeU32(0x1000, 0xdeadbeef);
if (memory.readU32(0x1000) !== 0xdeadbeef) throw new TypeError('core ESM: PhysicalMemory broken');
const eventfd = new EventFd();
eventfd.write(2);
if (eventfd.read() !== 2n) throw new TypeError('core ESM: EventFd broken');

// The UAPI subpath stands alone: constants and codecs without the model.
const uapi = await import('@vfiokit/vfio/uapi');
if (uapi.VFIO_TYPE1v2_IOMMU !== 3 || uapi.UAPI_STRUCTS.vfio_iommu_type1_dma_map?.size !== 32)
  throw new TypeError('vfio/uapi ESM: constants or layouts broken');
// ...and the UAPI moved out of the main entry (issue #9 item 26), which keeps UapiError only.
const vfio = await import('@vfiokit/vfio');
if ('VFIO_TYPE1v2_IOMMU' in vfio || typeof vfio.UapiError !== 'function' || typeof vfio.Vfio !== 'function')
  throw new TypeError('vfio ESM: the main entry still has UAPI names, or lost the model');

for (const name of readdirSync(new URL('../packages', import.meta.url))) {
  const pkg = JSON.parse(readFileSync(new URL(`../packages/${name}/package.json`, import.meta.url), 'utf8'));
  for (const subpath of Object.keys(pkg.exports).filter((key) => key !== './package.json')) {
    await import(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
  }
}
console.log('smoke (ESM): every package imports');
