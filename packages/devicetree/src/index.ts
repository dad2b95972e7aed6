// --- FDT codec, DTS text, builder (blob format) ---
export {
  type BuildOptions,
  DeviceTreeBuilder,
  type DtCell,
  DtNodeBuilder,
  type DtRef,
  ref,
} from './builder.js';
export { type ToDtsOptions, toDts } from './dts.js';
export { type DtsValueKind, guessValueKind } from './dts-value.js';
export { FDT_ERROR_CODES, FdtError, type FdtErrorCode, isFdtError } from './fdt-error.js';
export { FDT_MAX_DEPTH, parseFdt } from './fdt-parse.js';
export { type SerializeOptions, serializeFdt } from './fdt-serialize.js';
export type { DeviceTree, DtHeader, DtNode, DtProperty, DtReserveEntry } from './tree.js';

// --- end FDT codec ---

export { IRQCHIP_OF_TABLE_V6_12 } from './irqchip-of-table.js';
// --- kernel semantics (drivers/of) and population ---
export {
  addressResources,
  addressToResource,
  type DtRegEntry,
  type DtResource,
  OF_MAX_ADDR_CELLS,
  regEntries,
  translateAddress,
} from './of-address.js';
export { IORESOURCE_IO, IORESOURCE_MEM, matchBus, type OfBus } from './of-bus.js';
export { makeBusId } from './of-bus-id.js';
export {
  addressCells,
  busAddressCells,
  busSizeCells,
  OF_ROOT_NODE_ADDR_CELLS_DEFAULT,
  OF_ROOT_NODE_SIZE_CELLS_DEFAULT,
  sizeCells,
} from './of-cells.js';
export { dmaParent, isDmaCoherent } from './of-dma.js';
export {
  decodeGicSpecifier,
  EPPI_BASE_INTID,
  ESPI_BASE_INTID,
  GIC_V2_COMPATIBLES,
  GIC_V3_COMPATIBLES,
  type GicInterrupt,
  type GicInterruptType,
  gicVersion,
  IRQ_TYPE_SENSE_MASK,
  type IrqTrigger,
  irqTrigger,
} from './of-gic.js';
export {
  findInterruptParent,
  irqResolver,
  type OfIrqSpec,
  parseIrq,
  parseIrqRaw,
  parseIrqs,
} from './of-irq.js';
export { irqchipInitOrder } from './of-irq-init.js';
export { busMatchNeedsOwnAddressCells, DEFAULT_OF_KERNEL, OF_KERNEL_RANGE } from './of-kernel.js';
export { AMBA_NR_IRQS } from './of-links.js';
export {
  type DtMsiController,
  GITS_TRANSLATER,
  type MsiControllerKind,
  msiControllers,
  V2M_MSI_SETSPI_NS,
} from './of-msi.js';
export {
  iteratePhandles,
  MAX_PHANDLE_ARGS,
  type OfPhandleArgs,
  parsePhandleList,
  parsePhandleWithArgs,
} from './of-phandle.js';
export { propertyCells, propertyString, propertyStrings, propertyU32, readNumber } from './of-prop.js';
export { OfNode, OfTree } from './of-tree.js';
export { populate, populateDevices } from './populate.js';
export {
  DEFAULT_EARLY_CLOCKS,
  DEFAULT_EARLY_IRQCHIPS,
  OF_DEFAULT_BUS_MATCH_TABLE,
  RESERVED_MEM_MATCHES,
  SKIPPED_NODE_TABLE,
} from './populate-tables.js';
export type {
  DtDevice,
  DtDeviceBus,
  DtIrq,
  DtLink,
  DtSkippedNode,
  DtSkipReason,
  PopulateOptions,
  PopulateResult,
} from './populate-types.js';
// --- end kernel semantics ---
