import type { IommuGroup } from '@vfiokit/core';
import type { IommufdCtx } from '../cdev/iommufd-ctx.js';
import type { VfioContainer } from '../container/container.js';
import type { VfioDevice } from '../device/vfio-device.js';
import type { Type1Group } from '../type1/type1-iommu.js';

/**
 * `enum vfio_group_type` (drivers/vfio/vfio.h): a real IOMMU group, an emulated one
 * (`vfio_register_emulated_iommu_dev`: its own fake group, no DMA ownership), or a no-IOMMU
 * group (`enable_unsafe_noiommu_mode`, CAP_SYS_RAWIO everywhere, kernel tainted).
 */
export type VfioGroupKind = 'iommu' | 'emulated' | 'noiommu';

/**
 * `struct vfio_group` (drivers/vfio/group.c): the devices VFIO registered for one IOMMU group,
 * the single open group file, and the container link with its user count
 * (`container_users`: 1 for the link + 1 per device with an open fd).
 */
export class VfioGroup {
  readonly id: number;
  readonly kind: VfioGroupKind;
  /** The IOMMU group, for `iommu` groups; emulated and no-IOMMU groups have none that VFIO claims. */
  readonly iommuGroup: IommuGroup | null;
  readonly devices: VfioDevice[] = [];
  container: VfioContainer | null = null;
  /**
   * `group->iommufd`: the iommufd a SET_CONTAINER took instead of a container (drivers/vfio/
   * group.c); devices opened through the group bind to it and attach to its compat IOAS.
   */
  iommufd: IommufdCtx | null = null;
  /** `group->kvm`: set by KVM-VFIO's `KVM_DEV_VFIO_FILE_ADD` of the group fd (`vfio_group_set_kvm`). */
  kvm: object | undefined = undefined;
  /** `group->container_users`. */
  containerUsers = 0;
  /** Whether `/dev/vfio/<name>` is open (`group->opened_file`). */
  opened = false;

  constructor(id: number, kind: VfioGroupKind, iommuGroup: IommuGroup | null) {
    this.id = id;
    this.kind = kind;
    this.iommuGroup = iommuGroup;
  }

  /** The char device name under /dev/vfio: `<id>`, or `noiommu-<id>`. */
  get name(): string {
    return this.kind === 'noiommu' ? `noiommu-${this.id}` : `${this.id}`;
  }

  /**
   * `/sys/kernel/iommu_groups/<id>/name`: `vfio-noiommu` for the groups VFIO allocates itself
   * (no-IOMMU and emulated, `vfio_noiommu_group_alloc`); null for a real group (no name file).
   */
  get iommuGroupName(): 'vfio-noiommu' | null {
    return this.kind === 'iommu' ? null : 'vfio-noiommu';
  }

  /** How type1 sees this group. No-IOMMU groups never reach type1. */
  type1Group(): Type1Group {
    if (this.kind === 'iommu' && this.iommuGroup !== null) {
      return { kind: 'iommu', id: this.id, iommuGroup: this.iommuGroup };
    }
    return { kind: 'emulated', id: this.id };
  }

  /** Devices still registered (what GET_DEVICE_FD can find). */
  get registeredDevices(): readonly VfioDevice[] {
    return this.devices.filter((d) => d.registered);
  }
}
