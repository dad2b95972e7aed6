/** Test helpers for VFIO users: import from `@vfiokit/vfio/testing`. */
export { type RegisterAccess, RegisterFile } from './register-file.js';
export { type StubDeviceOps, stubDeviceOps } from './stub-device.js';
export { SMMU_SW_MSI_REGION, type TestIommuGroupOptions, testIommuGroup } from './test-group.js';
