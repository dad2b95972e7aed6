// Header checks in libfdt's order (scripts/dtc/libfdt/fdt_check.c: fdt_check_full(), and
// fdt.c: fdt_check_header(), check_off_(), check_block_()), so that a blob libfdt rejects
// is rejected here with the same FDT_ERR_* name.
import { FdtError } from './fdt-error.js';
import {
  FDT_FIRST_SUPPORTED_VERSION,
  FDT_LAST_SUPPORTED_VERSION,
  FDT_MAGIC,
  HDR,
  headerSize,
} from './fdt-format.js';

/** The checked header of a blob, with every block bound resolved to absolute byte offsets. */
export interface FdtLayout {
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuidPhys: number;
  readonly totalsize: number;
  readonly offMemRsvmap: number;
  /** Absolute start and end (exclusive) of the structure block. */
  readonly structStart: number;
  readonly structEnd: number;
  /** Absolute start of the strings block, and the end a name may not run past. */
  readonly stringsStart: number;
  readonly stringsEnd: number;
}

const INT_MAX = 0x7fffffff;

function u32(view: DataView, at: number): number {
  return view.getUint32(at, false);
}

/** check_off_(): a block bound lies between the header and `totalsize`. */
function inside(hdrsize: number, totalsize: number, off: number): boolean {
  return off >= hdrsize && off <= totalsize;
}

/** Reads and checks the header, as fdt_check_full() does before walking the structure. */
export function readHeader(bytes: Uint8Array): FdtLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // fdt_check_full(): bufsize < FDT_V1_SIZE comes before the magic check.
  if (bytes.length < 28) {
    throw new FdtError('TRUNCATED', `blob of ${bytes.length} bytes is shorter than the 28-byte v1 header`, {
      offset: 0,
    });
  }
  // fdt_check_full() sizes the header from the version field before it looks at the magic.
  const version = u32(view, HDR.version);
  const hdrsize = headerSize(version);
  if (bytes.length < hdrsize) {
    throw new FdtError(
      'TRUNCATED',
      `blob of ${bytes.length} bytes is shorter than the ${hdrsize}-byte header of version ${version}`,
      { offset: 0 },
    );
  }
  const magic = u32(view, HDR.magic);
  if (magic !== FDT_MAGIC) {
    throw new FdtError('BADMAGIC', `magic is 0x${magic.toString(16).padStart(8, '0')}, not 0xd00dfeed`, {
      offset: HDR.magic,
    });
  }
  const lastCompVersion = u32(view, HDR.lastCompVersion);
  if (version < FDT_FIRST_SUPPORTED_VERSION) {
    throw new FdtError('BADVERSION', `version ${version} is older than 2, the first version libfdt reads`, {
      offset: HDR.version,
    });
  }
  if (lastCompVersion > FDT_LAST_SUPPORTED_VERSION) {
    throw new FdtError(
      'BADVERSION',
      `last_comp_version ${lastCompVersion} is newer than 17, the last version libfdt reads`,
      { offset: HDR.lastCompVersion },
    );
  }
  if (version < lastCompVersion) {
    throw new FdtError('BADVERSION', `version ${version} is below last_comp_version ${lastCompVersion}`, {
      offset: HDR.version,
    });
  }
  const totalsize = u32(view, HDR.totalsize);
  if (totalsize < hdrsize || totalsize > INT_MAX) {
    throw new FdtError('TRUNCATED', `totalsize ${totalsize} is outside [${hdrsize}, 2^31)`, {
      offset: HDR.totalsize,
    });
  }
  const offMemRsvmap = u32(view, HDR.offMemRsvmap);
  if (!inside(hdrsize, totalsize, offMemRsvmap)) {
    throw new FdtError(
      'TRUNCATED',
      `off_mem_rsvmap ${offMemRsvmap} is outside the blob [${hdrsize}, ${totalsize}]`,
      { offset: HDR.offMemRsvmap },
    );
  }
  const offDtStruct = u32(view, HDR.offDtStruct);
  let structEnd = totalsize;
  if (version < 17) {
    if (!inside(hdrsize, totalsize, offDtStruct)) {
      throw new FdtError(
        'TRUNCATED',
        `off_dt_struct ${offDtStruct} is outside the blob [${hdrsize}, ${totalsize}]`,
        { offset: HDR.offDtStruct },
      );
    }
  } else {
    const sizeDtStruct = u32(view, HDR.sizeDtStruct);
    if (!inside(hdrsize, totalsize, offDtStruct) || !inside(hdrsize, totalsize, offDtStruct + sizeDtStruct)) {
      throw new FdtError(
        'TRUNCATED',
        `structure block [${offDtStruct}, +${sizeDtStruct}) is outside the blob [${hdrsize}, ${totalsize}]`,
        { offset: HDR.offDtStruct },
      );
    }
    structEnd = offDtStruct + sizeDtStruct;
  }
  const offDtStrings = u32(view, HDR.offDtStrings);
  // Version 2 has no size_dt_strings: names may run to totalsize (libfdt's fdt_get_string()
  // only bounds by size_dt_strings from version 17 on, and by totalsize before).
  let stringsEnd = totalsize;
  if (version >= 3) {
    const sizeDtStrings = u32(view, HDR.sizeDtStrings);
    if (
      !inside(hdrsize, totalsize, offDtStrings) ||
      !inside(hdrsize, totalsize, offDtStrings + sizeDtStrings)
    ) {
      throw new FdtError(
        'TRUNCATED',
        `strings block [${offDtStrings}, +${sizeDtStrings}) is outside the blob [${hdrsize}, ${totalsize}]`,
        { offset: HDR.offDtStrings },
      );
    }
    if (version >= 17) stringsEnd = offDtStrings + sizeDtStrings;
  } else {
    // Version 2 has no size_dt_strings, yet fdt_check_header() bounds-checks the word where it
    // would be (offset 32, past the v2 header) all the same; a blob libfdt refuses is refused.
    const quirk = bytes.length >= 36 ? u32(view, HDR.sizeDtStrings) : 0;
    if (!inside(hdrsize, totalsize, offDtStrings) || !inside(hdrsize, totalsize, offDtStrings + quirk)) {
      throw new FdtError(
        'TRUNCATED',
        `strings block [${offDtStrings}, +${quirk}) is outside the blob [${hdrsize}, ${totalsize}] (libfdt reads size_dt_strings even in a version 2 header)`,
        { offset: HDR.offDtStrings },
      );
    }
  }
  if (bytes.length < totalsize) {
    throw new FdtError(
      'TRUNCATED',
      `blob of ${bytes.length} bytes is shorter than its totalsize ${totalsize}`,
      { offset: bytes.length },
    );
  }
  return {
    version,
    lastCompVersion,
    bootCpuidPhys: u32(view, HDR.bootCpuidPhys),
    totalsize,
    offMemRsvmap,
    structStart: offDtStruct,
    structEnd,
    stringsStart: offDtStrings,
    stringsEnd,
  };
}
