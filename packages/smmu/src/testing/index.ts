/**
 * Test helpers for @vfiokit/smmu users: drive the SMMU models through registers and queues.
 * The register and queue sequences are the drivers' own (src/drivers), exported here so tests
 * can program a model without probing a device tree.
 */
export { ArmSmmuV2Programmer, type FlushOpsOptions, type SmmuV2Context } from '../drivers/arm-smmu-hw.js';
export {
  ArmSmmuV3Programmer,
  type ArmSmmuV3ProgrammerOptions,
  type SmmuV3EventRecord,
  type V3FlushOpsOptions,
} from '../drivers/arm-smmu-v3-hw.js';
