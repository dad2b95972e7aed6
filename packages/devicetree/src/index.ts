// --- FDT codec, DTS text, builder (blob format) ---
export { FDT_ERROR_CODES, FdtError, type FdtErrorCode, isFdtError } from './fdt-error.js';
export type { DeviceTree, DtHeader, DtNode, DtProperty, DtReserveEntry } from './tree.js';
// --- end FDT codec ---

// --- kernel semantics (drivers/of) and population ---
// --- end kernel semantics ---
