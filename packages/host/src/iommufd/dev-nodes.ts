import { IommufdFile } from '@vfiokit/iommufd';
import { iommufdTaskOf, openDeviceCdev, type Task, type Vfio, type VfioFile } from '@vfiokit/vfio';

const DEVICES = '/dev/vfio/devices/';
const PAGE = 4096;

/**
 * The bytes `copy_to_user`/`copy_from_user` move for iommufd, per process. The host model
 * keeps no contents of anonymous memory, so these copies keep their own sparse store over
 * the process's mappings (`EFAULT` where nothing is mapped).
 */
function userBytes(current: Task): {
  copyToUser(vaddr: number, bytes: Uint8Array): void;
  copyFromUser(vaddr: number, length: number): Uint8Array;
} {
  let pages = STORES.get(current);
  if (pages === undefined) {
    pages = new Map();
    STORES.set(current, pages);
  }
  const store = pages;
  const page = (at: number): Uint8Array => {
    const base = at - (at % PAGE);
    let p = store.get(base);
    if (p === undefined) {
      p = new Uint8Array(PAGE);
      store.set(base, p);
    }
    return p;
  };
  return {
    copyToUser(vaddr, bytes) {
      current.mm.addressSpace.resolve(vaddr, bytes.length);
      bytes.forEach((b, i) => {
        page(vaddr + i)[(vaddr + i) % PAGE] = b;
      });
    },
    copyFromUser(vaddr, length) {
      current.mm.addressSpace.resolve(vaddr, length);
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = page(vaddr + i)[(vaddr + i) % PAGE] ?? 0;
      return out;
    },
  };
}

const STORES = new WeakMap<Task, Map<number, Uint8Array>>();

/**
 * `open()` of the iommufd-era nodes: `/dev/iommu` (iommufd_fops_open: a new context whose
 * `current` is the opener) and `/dev/vfio/devices/vfio<index>` (the VFIO device cdev).
 * Undefined for any other path.
 */
export function openIommufdNode(
  path: string,
  current: Task,
  vfio: Vfio,
  params: { readonly iommufd_allow_unsafe_interrupts: boolean } = { iommufd_allow_unsafe_interrupts: false },
): VfioFile | undefined {
  if (path === '/dev/iommu') {
    // The model's capability set has no CAP_SYS_RESOURCE: a process with root's CAP_SYS_RAWIO
    // (the oracle runner's default) is taken to hold it too, as root does.
    const task = iommufdTaskOf(current);
    const capable = (c: 'CAP_IPC_LOCK' | 'CAP_SYS_RESOURCE' | 'CAP_SYS_RAWIO'): boolean =>
      c === 'CAP_SYS_RESOURCE' ? current.capable('CAP_SYS_RAWIO') : task.capable(c);
    return new IommufdFile({
      task: { ...task, ...userBytes(current), capable },
      allowUnsafeInterrupts: params.iommufd_allow_unsafe_interrupts,
    });
  }
  if (path.startsWith(DEVICES) && !path.slice(DEVICES.length).includes('/'))
    return openDeviceCdev(vfio, path.slice(DEVICES.length));
  return undefined;
}
