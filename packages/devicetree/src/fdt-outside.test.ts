// Hand-made malformed versions of a real blob (calxeda-midway.dtb), written as a user's
// broken file would be: each gets libfdt's FDT_ERR_ name and the byte offset of the faulty
// field, and, where the host's libfdt is present, the same verdict as its fdt_check_full().
import { describe, expect, it } from 'vitest';
import { type FdtErrorCode, isFdtError } from './fdt-error.js';
import { parseFdt } from './fdt-parse.js';
import { fixture } from './test-support/fixtures.js';
import { libfdtCheckFull } from './test-support/libfdt.js';
import { u32, withU32 } from './test-support/raw-blob.js';

const blob = fixture('calxeda-midway.dtb').blob;
const OFF_STRUCT = u32(blob, 8);
const OFF_STRINGS = u32(blob, 12);
const SIZE_STRINGS = u32(blob, 32);
// The first token after the root's FDT_BEGIN_NODE "" (4 + 4 bytes) is a property.
const PROP = OFF_STRUCT + 8;

type Verdict = { readonly code: FdtErrorCode; readonly offset: number } | 'OK';

const CASES: readonly [string, Uint8Array, Verdict][] = [
  ['a zero-length blob', new Uint8Array(0), { code: 'TRUNCATED', offset: 0 }],
  ['a 39-byte blob (one byte short of the v17 header)', blob.slice(0, 39), { code: 'TRUNCATED', offset: 0 }],
  ['version 1', withU32(blob, 20, 1), { code: 'BADVERSION', offset: 20 }],
  [
    'last_comp_version 17 with version 16',
    withU32(withU32(blob, 20, 16), 24, 17),
    { code: 'BADVERSION', offset: 20 },
  ],
  ['size_dt_struct past totalsize', withU32(blob, 36, blob.length), { code: 'TRUNCATED', offset: 8 }],
  [
    'off_dt_strings + size_dt_strings overflowing 2^32',
    withU32(withU32(blob, 12, 0xfffffff0), 32, 0x20),
    { code: 'TRUNCATED', offset: 12 },
  ],
  ['size_dt_strings 0xffffffff', withU32(blob, 32, 0xffffffff), { code: 'TRUNCATED', offset: 12 }],
  ['off_dt_struct 0xfffffffc', withU32(blob, 8, 0xfffffffc), { code: 'TRUNCATED', offset: 8 }],
  ['totalsize 0xffffffff', withU32(blob, 4, 0xffffffff), { code: 'TRUNCATED', offset: 4 }],
  ['off_mem_rsvmap 0xfffffff8', withU32(blob, 16, 0xfffffff8), { code: 'TRUNCATED', offset: 16 }],
  [
    'a property length of 0xffffffff',
    withU32(blob, PROP + 4, 0xffffffff),
    { code: 'BADSTRUCTURE', offset: PROP + 4 },
  ],
  [
    'a string offset past the strings block',
    withU32(blob, PROP + 8, SIZE_STRINGS + 5),
    { code: 'BADOFFSET', offset: PROP + 8 },
  ],
  [
    'a string offset of 0xffffffff',
    withU32(blob, PROP + 8, 0xffffffff),
    { code: 'BADOFFSET', offset: PROP + 8 },
  ],
  [
    'a property name running off the end of the strings block',
    (() => {
      const b = withU32(blob, PROP + 8, SIZE_STRINGS - 1);
      b[OFF_STRINGS + SIZE_STRINGS - 1] = 0x41;
      return b;
    })(),
    { code: 'TRUNCATED', offset: OFF_STRINGS + SIZE_STRINGS - 1 },
  ],
  ['FDT_END before the root closes', withU32(blob, PROP, 9), { code: 'BADSTRUCTURE', offset: PROP }],
  // libfdt checks each block against totalsize, not against each other: overlapping blocks
  // are read as they lie (here the strings block starts inside the structure block and the
  // name offsets still land on NUL-terminated bytes).
  ['the strings block overlapping the structure block', withU32(blob, 12, OFF_STRUCT + 8), 'OK'],
  // libfdt reads any version >= 2 whose last_comp_version it supports.
  ['last_comp_version 17 with version 17', withU32(blob, 24, 17), 'OK'],
  ['version 0xffffffff with last_comp_version 16', withU32(blob, 20, 0xffffffff), 'OK'],
];

describe('malformed real blobs from outside', () => {
  it.each(CASES)('%s', (_, bytes, verdict) => {
    let thrown: unknown;
    try {
      parseFdt(bytes);
    } catch (error) {
      thrown = error;
    }
    if (verdict === 'OK') {
      expect(thrown).toBeUndefined();
      return;
    }
    expect(isFdtError(thrown), String(thrown)).toBe(true);
    if (!isFdtError(thrown)) return;
    expect([thrown.code, thrown.offset]).toEqual([verdict.code, verdict.offset]);
    expect(thrown.message).toMatch(new RegExp(`^FDT_ERR_${verdict.code} at byte ${verdict.offset}: `));
  });

  it("agrees with the host libfdt's fdt_check_full() on every case", () => {
    const verdicts = libfdtCheckFull(CASES.map(([, bytes]) => bytes));
    if (verdicts === null) return;
    expect(verdicts).toEqual(CASES.map(([, , verdict]) => (verdict === 'OK' ? 'OK' : verdict.code)));
  });
});
