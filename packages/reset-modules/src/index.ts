/**
 * @vfiokit/reset-modules — the vfio-platform reset registry (drivers/vfio/platform/
 * vfio_platform_common.c), reset modules, and the register-level device models they act on.
 *
 * For the vfio drivers (stable API):
 * - probe (`vfio_platform_init_common`): `registry.getReset(device, { resetRequired })` →
 *   a {@link DeviceReset}; throws `ENOENT` when no reset exists and `resetRequired`, and
 *   `EINVAL` when an OF device has no compatible.
 * - open / close (`vfio_platform_open_device` / `_close_device`): `reset.callOnOpen(target)`
 *   (throws when it fails and reset_required) / `reset.callOnClose(target)` (never throws).
 * - `VFIO_DEVICE_RESET`: `reset.call(target)` (`EINVAL` without a reset);
 *   `VFIO_DEVICE_GET_INFO`: `reset.hasReset` → `VFIO_DEVICE_FLAGS_RESET`.
 * - remove (`vfio_platform_release_common`): `reset.release()`.
 * - `reset.report` states which provider resets the device, whether Linux would, which registry
 *   mode decided (`upstream`, the default: only Linux's modules; `vfiokit`: opt-in extras) and
 *   the module's v6.18 deprecation text.
 */
export { AmdXgbeModel, type AmdXgbeOptions, XGBE_MODEL_MAC_VR } from './models/amd-xgbe.js';
export { AmdXgbeXpcs } from './models/amd-xgbe-xpcs.js';
export { FlexRmModel, type FlexRmOptions } from './models/bcm-flexrm.js';
export { FlexRmRing } from './models/bcm-flexrm-ring.js';
export { CalxedaXgmacModel, type CalxedaXgmacOptions, XGMAC_MODEL_VERSION } from './models/calxeda-xgmac.js';
export type { DeviceModel } from './models/device-model.js';
export { IrqLines, type IrqSink } from './models/irq-lines.js';
export { Pl330Model, type Pl330Options } from './models/pl330.js';
export { Pl330Channel } from './models/pl330-channel.js';
export { assemblePl330, encodePl330, type Pl330Instruction, pl330Ccr } from './models/pl330-microcode.js';
export { extractLanes, mergeLanes, wordOffset } from './models/register-access.js';
export {
  AMD_XGBE_COMPATIBLE,
  type AmdXgbeResetOptions,
  amdXgbeReset,
  amdXgbeResetModule,
  createAmdXgbeReset,
} from './modules/amd-xgbe-reset.js';
export {
  BCM_FLEXRM_COMPATIBLE,
  type BcmFlexrmResetOptions,
  bcmFlexrmReset,
  bcmFlexrmResetModule,
  createBcmFlexrmReset,
  FLEXRM_FLUSH_POLLS,
} from './modules/bcm-flexrm-reset.js';
export { builtinResetModules } from './modules/builtin.js';
export {
  CALXEDA_XGMAC_COMPATIBLE,
  calxedaXgmacReset,
  calxedaXgmacResetModule,
  calxedaXgmacSoftReset,
  calxedaXgmacSoftResetModule,
  XGMAC_SOFT_RESET_POLLS,
} from './modules/calxeda-xgmac-reset.js';
export {
  AMD_XGBE_DEPRECATION,
  BCM_FLEXRM_DEPRECATION,
  CALXEDA_XGMAC_DEPRECATION,
} from './modules/deprecations.js';
export { PL330_COMPATIBLE, PL330_RESET_POLLS, pl330Reset, pl330ResetModule } from './modules/pl330-reset.js';
export {
  DeviceReset,
  type GetResetOptions,
  type ResetOutcome,
  type ResetPhase,
} from './registry/device-reset.js';
export { RESET_REGISTRY_MODES, type ResetRegistryMode } from './registry/mode.js';
export { type Modprobe, modprobe } from './registry/modprobe.js';
export type { AcpiCompanion, ResetControl, ResetDeviceInfo } from './registry/providers.js';
export type { ResetProviderKind, ResetReport } from './registry/report.js';
export { ResetControllerModel } from './registry/reset-controller.js';
export {
  type ResetDeprecation,
  type ResetDisposer,
  type ResetModuleDefinition,
  type ResetModuleLoader,
  type ResetModuleRegistration,
  resetModuleAlias,
  VFIO_RESET_ALIAS_PREFIX,
} from './registry/reset-module.js';
export {
  type ResetModuleHandle,
  type ResetModuleLookup,
  ResetRegistry,
  type ResetRegistryOptions,
} from './registry/reset-registry.js';

import * as amdXgbeRegisters from './models/amd-xgbe-regs.js';
import * as bcmFlexrmRegisters from './models/bcm-flexrm-regs.js';
import * as calxedaXgmacRegisters from './models/calxeda-xgmac-regs.js';
import * as pl330Registers from './models/pl330-regs.js';

/** Register offsets and bits of the four device models, named as the kernel sources name them. */
export { amdXgbeRegisters, bcmFlexrmRegisters, calxedaXgmacRegisters, pl330Registers };
