// Loads every built package through its published CommonJS entry, as a user's project would.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const { EventFd, KernelError, PhysicalMemory, isKernelError } = require('@vfiokit/core');
const error = new KernelError('ENODEV', 'smoke');
if (!isKernelError(error, 'ENODEV') || error.errno !== 19)
  throw new TypeError('core CJS: KernelError broken');
const memory = new PhysicalMemory();
memory.writeU8(0x2000, 0x5a);
if (memory.readU8(0x2000) !== 0x5a) throw new TypeError('core CJS: PhysicalMemory broken');
if (new EventFd({ initval: 3 }).read() !== 3n) throw new TypeError('core CJS: EventFd broken');

// The UAPI subpath stands alone: constants and codecs without the model.
const uapi = require('@vfiokit/vfio/uapi');
if (uapi.VFIO_TYPE1v2_IOMMU !== 3 || uapi.UAPI_STRUCTS.vfio_iommu_type1_dma_map?.size !== 32)
  throw new TypeError('vfio/uapi CJS: constants or layouts broken');
// ...and the UAPI moved out of the main entry (issue #9 item 26), which keeps UapiError only.
const vfio = require('@vfiokit/vfio');
if ('VFIO_TYPE1v2_IOMMU' in vfio || typeof vfio.UapiError !== 'function' || typeof vfio.Vfio !== 'function')
  throw new TypeError('vfio CJS: the main entry still has UAPI names, or lost the model');

const packages = join(__dirname, '..', 'packages');
for (const name of readdirSync(packages)) {
  const pkg = JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8'));
  for (const subpath of Object.keys(pkg.exports).filter((key) => key !== './package.json')) {
    require(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
  }
}
console.log('smoke (CJS): every package loads');
