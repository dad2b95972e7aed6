export { errno } from './errno.js';
export { initialisedVm } from './vm.js';
