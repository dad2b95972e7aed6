import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';

/**
 * What the KVM-VFIO device needs from a VFIO group or device file (`kvm_vfio_file_is_valid`,
 * `kvm_vfio_file_set_kvm`): implemented by `@vfiokit/vfio`'s files, so kvm needs no vfio import.
 */
export interface KvmVfioFile {
  /** Brand: `vfio_file_is_valid()` is true only for VFIO group/device files. */
  readonly vfioFile: true;
  /** Whether the file descriptor is still open (`fget` fails EBADF otherwise). */
  readonly isOpen: boolean;
  /** `vfio_file_set_kvm`: the VM the file now belongs to, or undefined on FILE_DEL. */
  setKvm?(kvm: object | undefined): void;
}

/** The attribute of KVM_SET_DEVICE_ATTR on the KVM-VFIO device: group KVM_DEV_VFIO_FILE. */
export interface KvmVfioAttr {
  readonly group: number;
  readonly attr: number;
  /** The file whose fd `addr` points at; anything that is not a {@link KvmVfioFile} is EINVAL. */
  readonly file?: unknown;
  /** `addr` is NULL: the fd cannot be read (`get_user` → EFAULT). */
  readonly nullAddr?: boolean;
}

function isVfioFile(file: unknown): file is KvmVfioFile {
  return typeof file === 'object' && file !== null && (file as { vfioFile?: unknown }).vfioFile === true;
}

/**
 * The KVM-VFIO pseudo device (virt/kvm/vfio.c): one per VM (a second KVM_CREATE_DEVICE is
 * EBUSY), a list of VFIO files with FILE_ADD (EBADF closed fd, EINVAL not a VFIO file, EEXIST
 * already added) and FILE_DEL (EBADF, ENOENT not added); other groups/attrs ENXIO.
 */
export class KvmVfioDevice {
  readonly type: number = K.KVM_DEV_TYPE_VFIO;
  private readonly files: KvmVfioFile[] = [];
  private readonly kvm: object;

  constructor(kvm: object) {
    this.kvm = kvm;
  }

  /** The files added, in order. */
  get fileList(): readonly KvmVfioFile[] {
    return this.files;
  }

  hasAttr(attr: KvmVfioAttr): boolean {
    return (
      attr.group === K.KVM_DEV_VFIO_FILE &&
      (attr.attr === K.KVM_DEV_VFIO_FILE_ADD || attr.attr === K.KVM_DEV_VFIO_FILE_DEL)
    );
  }

  setAttr(attr: KvmVfioAttr): void {
    rejectUnknownOptions(attr, ['group', 'attr', 'file', 'nullAddr'], 'KVM_SET_DEVICE_ATTR (KVM-VFIO)');
    if (!this.hasAttr(attr))
      throw new KernelError('ENXIO', `KVM-VFIO attribute group ${attr.group} attr ${attr.attr}`);
    // kvm_vfio_set_file: get_user(fd, argp) comes after the attr switch.
    if (attr.nullAddr === true) throw new KernelError('EFAULT', 'KVM-VFIO: addr is NULL');
    const file = attr.file;
    const open = typeof file === 'object' && file !== null && (file as { isOpen?: unknown }).isOpen !== false;
    if (!open) throw new KernelError('EBADF', 'KVM-VFIO: not an open file');
    if (attr.attr === K.KVM_DEV_VFIO_FILE_ADD) {
      if (!isVfioFile(file)) throw new KernelError('EINVAL', 'KVM-VFIO: not a VFIO file');
      if (this.files.includes(file)) throw new KernelError('EEXIST', 'KVM-VFIO: file already added');
      this.files.push(file);
      file.setKvm?.(this.kvm);
      return;
    }
    const at = this.files.indexOf(file as KvmVfioFile);
    if (at < 0) throw new KernelError('ENOENT', 'KVM-VFIO: file not added');
    this.files.splice(at, 1);
    (file as KvmVfioFile).setKvm?.(undefined);
  }

  /** kvm_vfio_release (the VM is destroyed): every file is dropped and told so. */
  release(): void {
    for (const file of this.files.splice(0)) file.setKvm?.(undefined);
  }
}
