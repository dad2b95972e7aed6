// --- the mdev bus and the mtty sample (issue #12 item 4): the kernel's own emulated-IOMMU user ---

// --- device-specific emulated-IOMMU drivers (issue #12 item 3a): the maintainer's design, vfiokit's kit, not in Linux ---
export { defineEmulatedDriver } from './driver-kit/define.js';
export {
  type EmulatedDriverData,
  emulatedDriverData,
  emulatedPlatformDriver,
} from './driver-kit/emulated-driver.js';
export type {
  BusDevice,
  BusDriverSpec,
  EmulatedDriver,
  EmulatedDriverEnvironment,
  EmulatedDriverSpec,
  EmulatedIrqSpec,
  EmulatedRegionSpec,
  NoDmaStatement,
} from './driver-kit/types.js';
export { VFIO_PL011, vfioPl011Driver } from './drivers/pl011.js';
export { VFIO_PL031, vfioPl031Driver } from './drivers/pl031.js';
export { VFIO_PL061, vfioPl061Driver } from './drivers/pl061.js';
export { guidParse, UUID_STRING_LEN } from './mdev/guid.js';
export { kstrtoul, MdevBus } from './mdev/mdev-bus.js';
export type { MdevDevice, MdevDriver, MdevParentSpec, MdevTypeSpec } from './mdev/types.js';
export { MTTY_CONFIG_SPACE_SIZE, MTTY_IO_BAR_SIZE, MttyConfigSpace } from './mtty/config-space.js';
export { MAX_MTTYS, MTTY_TYPES, type MttyOptions, type MttyParent, mttyParent } from './mtty/mtty.js';
export {
  MttyDeviceOps,
  mttyIndexToOffset,
  VFIO_PCI_NUM_IRQS,
  VFIO_PCI_NUM_REGIONS,
} from './mtty/mtty-ops.js';
// --- DMA-capability policy (issue #12 item 1): vfiokit's design, not in Linux ---
export { assessDmaCapability } from './policy/assess.js';
export type { DmaClassEntry } from './policy/class-entry.js';
export {
  checkDmaFacts,
  type DmaChannelFact,
  type DmaFacts,
  VFIOKIT_NO_DMA_PROPERTY,
} from './policy/facts.js';
export { MASTER_CLASSES } from './policy/master-classes.js';
export { NON_MASTER_CLASSES } from './policy/non-master-classes.js';
export { type DmaFactsLookup, type DmaPolicyDevice, OfDmaCapabilityPolicy } from './policy/of-policy.js';
export {
  DMA_POLICY_OPTION_KEYS,
  type DmaOverride,
  type DmaPolicyOptions,
} from './policy/options.js';
export {
  type DmaCapability,
  type DmaCapabilityVerdict,
  type DmaRuleId,
  type DmaRuleRef,
  HARD_MASTER_EVIDENCE,
  MAX_REASON_LENGTH,
} from './policy/verdict.js';
// --- the 2024 RFC's vfio-platform (issue #12 item 3b): a proposal, not in Linux (opt-in) ---
export {
  type VfioAmbaRfcOptions,
  type VfioPlatformRfcOptions,
  vfioAmbaRfcDriver,
  vfioPlatformRfcDriver,
} from './rfc/vfio-platform-rfc.js';
