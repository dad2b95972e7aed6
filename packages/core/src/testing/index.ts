/** Test helpers for vfiokit packages and their users: import from `@vfiokit/core/testing`. */
export { type FlatIommuDomainOptions, FlatIommuDomain } from './flat-iommu-domain.js';
export { fastCheckScheduler } from './fast-check-scheduler.js';
