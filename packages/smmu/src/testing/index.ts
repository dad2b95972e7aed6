/** Test helpers for @vfiokit/smmu users: drive the SMMU models through registers and queues. */
export { ArmSmmuV2Programmer, type FlushOpsOptions, type SmmuV2Context } from './smmu-v2-programmer.js';
export {
  ArmSmmuV3Programmer,
  type ArmSmmuV3ProgrammerOptions,
  type SmmuV3EventRecord,
  type V3FlushOpsOptions,
} from './smmu-v3-programmer.js';
