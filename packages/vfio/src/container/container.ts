import { KernelError } from '@vfiokit/core';
import type { VfioGroup } from '../group/vfio-group.js';
import { type1AttachGroup, type1DetachGroup } from '../type1/attach.js';
import { type1CheckExtension, type1Ioctl } from '../type1/ioctl.js';
import { type Type1Environment, Type1Iommu } from '../type1/type1-iommu.js';
import { removeDma } from '../type1/unmap.js';
import { VFIO_TYPE1_NESTING_IOMMU } from '../uapi/generated-constants.js';
import {
  VFIO_API_VERSION,
  VFIO_CHECK_EXTENSION,
  VFIO_GET_API_VERSION,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../uapi/ioctls.js';
import { integerArg } from '../user/args.js';
import type { IoctlArg, MmapRequest, MmapResult, VfioFile } from '../user/file.js';
import type { Task } from '../user/task.js';

/** The IOMMU backend a container runs once VFIO_SET_IOMMU succeeded. */
export type ContainerDriver =
  | { readonly kind: 'type1'; readonly iommu: Type1Iommu }
  | { readonly kind: 'noiommu' };

/** What a container needs from the VFIO core. */
export interface ContainerEnvironment extends Type1Environment {
  /** `vfio.enable_unsafe_noiommu_mode`: registers the `vfio-noiommu` backend. */
  readonly noiommuEnabled: () => boolean;
}

/**
 * `/dev/vfio/vfio` (drivers/vfio/container.c): groups join it with VFIO_GROUP_SET_CONTAINER,
 * then VFIO_SET_IOMMU picks a backend (type1 or no-IOMMU) for all of them. Unprivileged until
 * a group joins; the last group leaving releases the backend.
 */
export class VfioContainer implements VfioFile {
  readonly kind = 'container' as const;
  readonly groups: VfioGroup[] = [];
  private backend: ContainerDriver | null = null;
  private noiommu = false;
  private readonly env: ContainerEnvironment;

  constructor(env: ContainerEnvironment) {
    this.env = env;
  }

  /** The backend, or null before VFIO_SET_IOMMU. */
  get driver(): ContainerDriver | null {
    return this.backend;
  }

  /** The type1 state, when the backend is type1. */
  get type1(): Type1Iommu | null {
    return this.backend?.kind === 'type1' ? this.backend.iommu : null;
  }

  ioctl(current: Task, request: number, arg?: IoctlArg): number {
    switch (request) {
      case VFIO_GET_API_VERSION:
        return VFIO_API_VERSION;
      case VFIO_CHECK_EXTENSION:
        return this.checkExtension(integerArg(arg));
      case VFIO_SET_IOMMU:
        this.setIommu(current, integerArg(arg));
        return 0;
      default:
        // vfio_fops_unl_ioctl: unrecognised ioctls pass to the backend; without one, EINVAL.
        if (this.backend === null)
          throw new KernelError('EINVAL', 'no IOMMU backend set (VFIO_SET_IOMMU first)');
        if (this.backend.kind === 'noiommu') {
          throw new KernelError('ENOTTY', `vfio-noiommu: unsupported ioctl 0x${request.toString(16)}`);
        }
        return type1Ioctl(this.backend.iommu, current, request, arg);
    }
  }

  read(): number {
    throw new KernelError('EINVAL', 'the container has no read');
  }

  write(): number {
    throw new KernelError('EINVAL', 'the container has no write');
  }

  mmap(_current: Task, _request: MmapRequest): MmapResult {
    throw new KernelError('ENODEV', 'the container has no mmap');
  }

  release(): void {
    // The container lives on while groups reference it (vfio_container_put).
  }

  // vfio_container_ioctl_check_extension: without a backend, ask every registered backend the
  // container's groups allow (real and no-IOMMU groups never mix).
  private checkExtension(extension: number): number {
    if (this.backend !== null) {
      return this.backend.kind === 'type1'
        ? type1CheckExtension(this.backend.iommu, extension, this.env.profile)
        : noiommuCheck(this.env, extension);
    }
    const considerType1 = this.groups.length === 0 || !this.noiommu;
    const considerNoiommu = this.env.noiommuEnabled() && (this.groups.length === 0 || this.noiommu);
    if (considerType1) {
      const answer = type1CheckExtension(null, extension, this.env.profile);
      if (answer > 0) return answer;
    }
    return considerNoiommu ? noiommuCheck(this.env, extension) : 0;
  }

  // vfio_ioctl_set_iommu: needs a group and no backend yet; the first backend that supports
  // `type`, opens and attaches every group wins; otherwise the last error (ENODEV if none tried).
  private setIommu(current: Task, type: number): void {
    if (this.groups.length === 0 || this.backend !== null) {
      throw new KernelError(
        'EINVAL',
        this.groups.length === 0 ? 'no group in the container' : 'the IOMMU is set already',
      );
    }
    let lastError: unknown = new KernelError('ENODEV', `no IOMMU backend supports type ${type}`);
    if (!this.noiommu && type1CheckExtension(null, type, this.env.profile) > 0) {
      // vfio_iommu_type1_open: TYPE1, TYPE1v2 and (before v6.13) TYPE1_NESTING, which implies v2.
      const nesting = type === VFIO_TYPE1_NESTING_IOMMU;
      if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU && !nesting) {
        lastError = new KernelError('EINVAL', `type1 cannot open type ${type}`);
      } else {
        const iommu = new Type1Iommu(type === VFIO_TYPE1v2_IOMMU || nesting, this.env, nesting);
        const attached: VfioGroup[] = [];
        try {
          for (const group of this.groups) {
            type1AttachGroup(iommu, current, group.type1Group());
            attached.push(group);
          }
          this.backend = { kind: 'type1', iommu };
          return;
        } catch (error) {
          for (const group of attached.reverse()) type1DetachGroup(iommu, group.type1Group());
          lastError = error;
        }
      }
    }
    if (this.noiommu && noiommuCheck(this.env, type) > 0) {
      // vfio_noiommu_open: only VFIO_NOIOMMU_IOMMU, only with CAP_SYS_RAWIO.
      if (!current.capable('CAP_SYS_RAWIO'))
        throw new KernelError('EPERM', 'vfio-noiommu needs CAP_SYS_RAWIO');
      this.backend = { kind: 'noiommu' };
      return;
    }
    throw lastError;
  }

  /**
   * `vfio_container_attach_group` after the group's own checks: no-IOMMU and real groups never
   * mix (`EPERM`); real groups claim DMA ownership (`EPERM` while kernel drivers use it); with a
   * backend set, the backend attaches the group (its error is returned, ownership released).
   */
  attachGroup(current: Task, group: VfioGroup): void {
    const isNoiommu = group.kind === 'noiommu';
    if (isNoiommu && !current.capable('CAP_SYS_RAWIO'))
      throw new KernelError('EPERM', 'no-IOMMU groups need CAP_SYS_RAWIO');
    if (this.groups.length > 0 && this.noiommu !== isNoiommu) {
      throw new KernelError('EPERM', 'no-IOMMU and IOMMU groups cannot share a container');
    }
    const iommuGroup = group.kind === 'iommu' ? group.iommuGroup : null;
    if (iommuGroup !== null) iommuGroup.claimDmaOwner(group);
    try {
      if (this.backend?.kind === 'type1') type1AttachGroup(this.backend.iommu, current, group.type1Group());
    } catch (error) {
      iommuGroup?.releaseDmaOwner(group);
      throw error;
    }
    this.groups.push(group);
    this.noiommu = isNoiommu;
  }

  /** `vfio_group_detach_container`: detach from the backend, release ownership; the last group releases the backend. */
  detachGroup(group: VfioGroup): void {
    const at = this.groups.indexOf(group);
    if (at < 0) throw new KernelError('EINVAL', `group ${group.name} is not in this container`);
    if (this.backend?.kind === 'type1') type1DetachGroup(this.backend.iommu, group.type1Group());
    if (group.kind === 'iommu' && group.iommuGroup !== null) group.iommuGroup.releaseDmaOwner(group);
    this.groups.splice(at, 1);
    if (this.groups.length === 0 && this.backend !== null) {
      // vfio_iommu_type1_release: whatever is still recorded goes.
      if (this.backend.kind === 'type1')
        for (const dma of [...this.backend.iommu.dmas.all()]) removeDma(this.backend.iommu, dma);
      this.backend = null;
    }
  }
}

// vfio_noiommu_ioctl: CHECK_EXTENSION(VFIO_NOIOMMU_IOMMU) is 1 iff no-IOMMU mode is on.
function noiommuCheck(env: ContainerEnvironment, extension: number): number {
  return env.noiommuEnabled() && extension === VFIO_NOIOMMU_IOMMU ? 1 : 0;
}
