/**
 * The in-memory device tree: what an FDT blob holds, without its byte layout.
 *
 * Property values are the raw big-endian bytes of the blob; interpretation (strings, cells,
 * phandles) is left to the readers that know the binding. Node and property order is kept,
 * because dtc and the kernel both preserve it and `toDts` must print it unchanged.
 */

/** One property: a name and its raw value bytes (empty for a boolean property). */
export interface DtProperty {
  readonly name: string;
  readonly value: Uint8Array;
}

/** One node: its full name (`serial@7ff80000`; `''` for the root), properties and children in blob order. */
export interface DtNode {
  readonly name: string;
  readonly properties: readonly DtProperty[];
  readonly children: readonly DtNode[];
}

/** One `/memreserve/` entry of the memory-reservation block (64-bit, so `bigint`). */
export interface DtReserveEntry {
  readonly address: bigint;
  readonly size: bigint;
}

/** Header facts a round trip must keep (the rest of the header is layout, recomputed on write). */
export interface DtHeader {
  /** `version` (2–17). */
  readonly version: number;
  /** `last_comp_version`. */
  readonly lastCompatibleVersion: number;
  /** `boot_cpuid_phys` (version 2+). */
  readonly bootCpuidPhys: number;
  /**
   * `totalsize` of the blob the tree was read from (set by `parseFdt`). `serializeFdt` pads
   * to it by default, so free space after the strings block (dtc `-p`/`-S`/`-a`, QEMU's
   * 1 MiB buffer) survives a round trip; `{ padding: 'none' }` drops it.
   */
  readonly totalSize?: number;
}

/** A whole device tree. */
export interface DeviceTree {
  readonly header: DtHeader;
  readonly reserveMap: readonly DtReserveEntry[];
  readonly root: DtNode;
}
