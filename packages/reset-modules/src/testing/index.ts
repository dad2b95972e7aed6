/**
 * Test helpers for reset modules: import from `@vfiokit/reset-modules/testing`. The quiescence
 * property proves a reset module on a device model; the scenarios prove this package's modules
 * and show how to write one for your own device.
 */

export { type Pl330ResetStep, pl330ResetWithout } from '../modules/pl330-reset.js';
export { CountingDmaPort } from './counting-dma-port.js';
export {
  type DmaSandbox,
  dmaSandbox,
  SANDBOX_IOVA,
  SANDBOX_PHYS,
  SANDBOX_SIZE,
  UNMAPPED_IOVA,
} from './dma-sandbox.js';
export { IrqRecorder } from './irq-recorder.js';
export { type ModelTarget, modelTarget } from './model-target.js';
export {
  assertQuiescence,
  checkQuiescence,
  type QuiescenceAction,
  type QuiescenceClause,
  QuiescenceError,
  type QuiescenceExemption,
  type QuiescenceSpec,
  type QuiescenceWorld,
  quiescenceProperty,
} from './quiescence.js';
export { type MmioAccess, RecordingMmio, recordTarget } from './recording-mmio.js';
export { type RegisterSpec, registerWrites, tickAction } from './register-writes.js';
export { amdXgbeScenario, type XgbeScenarioOptions, type XgbeWorld } from './scenarios/amd-xgbe.js';
export {
  FLEXRM_BD_RING,
  FLEXRM_CMPL_RING,
  FLEXRM_DATA,
  FLEXRM_KERNEL_RESET_EXEMPTIONS,
  FLEXRM_MSI_TARGET,
  type FlexRmRequest,
  type FlexRmScenarioOptions,
  type FlexRmWorld,
  flexRmBuffer,
  flexRmHeader,
  flexRmRequest,
  flexRmScenario,
} from './scenarios/bcm-flexrm.js';
export {
  calxedaXgmacScenario,
  type XgmacScenarioOptions,
  type XgmacWorld,
} from './scenarios/calxeda-xgmac.js';
export {
  PL330_SOFTWARE_RESET_EXEMPTIONS,
  type Pl330ScenarioOptions,
  type Pl330World,
  pl330DebugGo,
  pl330Scenario,
} from './scenarios/pl330.js';
