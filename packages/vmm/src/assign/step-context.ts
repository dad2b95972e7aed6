// What the steps of assignDevice share: the options, the state one step leaves for the next
// (fds, handles, the device's regions and IRQs), and the undo list. Its own file so that the
// legacy and the iommufd step sets can both use it without importing each other.
import type { DeviceTree } from '@vfiokit/devicetree';
import type { Host } from '@vfiokit/host';
import type {
  DeviceInfo,
  IrqInfo,
  RegionInfo,
  VfioContainerHandle,
  VfioDeviceHandle,
  VfioGroupHandle,
} from '@vfiokit/vfio';
import type { AssignedDeviceView } from '../guest-dt/assigned-device.js';
import type { AssignBackend, AssignStep } from './assign-error.js';
import type { GuestVm } from './guest-vm.js';

/** Options of {@link assignDevice}. Unknown keys are refused (`EINVAL`). */
export interface AssignOptions {
  /** The VFIO driver to bind (default `vfio-amba` on AMBA, `vfio-platform` else; `vfio-pl011`… load the emulated-IOMMU module). */
  readonly driver?: string;
  /**
   * `legacy` (default: `/dev/vfio/vfio` container + group, type1v2 or no-IOMMU) or `iommufd`
   * (`/dev/iommu` + the device cdev `/dev/vfio/devices/vfioN`). `container` is accepted as
   * the older name of `legacy`.
   */
  readonly backend?: AssignBackend | 'container';
  /** Base guest tree for the guest node (QEMU: a `-M virt` tree; crosvm: its base). Default: a minimal tree. */
  readonly baseTree?: DeviceTree;
  /** Test hook: called before each step; a throw there is a failure of that step. */
  readonly beforeStep?: (step: AssignStep) => void;
}

/** One step as it ran. */
export interface StepRecord {
  readonly step: AssignStep;
  readonly detail: string;
}

export interface Undo {
  readonly step: AssignStep;
  readonly run: () => void | Promise<void>;
}

/** The iommufd objects of an assignment on the iommufd back end. */
export interface IommufdState {
  /** The `/dev/iommu` fd. */
  iommufd?: number;
  /** `vfio<N>`, the device's cdev name (from `<dev>/vfio-dev/`). */
  cdev?: string;
  /** `out_devid` of VFIO_DEVICE_BIND_IOMMUFD. */
  devid?: number;
  /** `out_ioas_id` of IOMMU_IOAS_ALLOC. */
  ioasId?: number;
}

export interface Ctx {
  readonly host: Host;
  readonly vm: GuestVm;
  readonly name: string;
  readonly options: AssignOptions;
  readonly backend: AssignBackend;
  bus: 'platform' | 'amba';
  driver: string;
  hostDriver: string | null;
  container?: VfioContainerHandle;
  group?: VfioGroupHandle;
  groupName?: string;
  iommuType?: 'type1v2' | 'noiommu' | 'iommufd';
  /** The fd KVM_DEV_VFIO_FILE_ADD takes: the group's (legacy) or the device cdev's (iommufd). */
  kvmVfioFd?: number;
  readonly iommufd: IommufdState;
  device?: VfioDeviceHandle;
  info?: DeviceInfo;
  regions: RegionInfo[];
  irqs: IrqInfo[];
  view?: AssignedDeviceView;
  guest?: { dtb: Uint8Array; dts: string };
  readonly undo: Undo[];
  readonly records: StepRecord[];
}

/** A step: does its work, pushes its undo, returns what the transcript shows. */
export type StepImpl = (ctx: Ctx, push: (run: Undo['run']) => void) => string | Promise<string>;
