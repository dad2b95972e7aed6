/** Test helpers for VFIO users: import from `@vfiokit/vfio/testing`. */

export { type CountingDeviceOps, countingDeviceOps } from './counting-device.js';
export { type FakeIoctlHandler, type FakeSyscall, FakeVfioSyscalls } from './fake-syscalls.js';
export { type RegisterAccess, RegisterFile } from './register-file.js';
export { SMMU_SW_MSI_REGION, type TestIommuGroupOptions, testIommuGroup } from './test-group.js';
