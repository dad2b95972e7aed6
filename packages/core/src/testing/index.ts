/** Test helpers for vfiokit packages and their users: import from `@vfiokit/core/testing`. */

export { type FastCheckScheduler, fastCheckScheduler } from './fast-check-scheduler.js';
export { FlatIommuDomain, type FlatIommuDomainOptions } from './flat-iommu-domain.js';
export { thrownErrno } from './thrown-errno.js';
