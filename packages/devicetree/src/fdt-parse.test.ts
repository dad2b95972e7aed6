import { describe, expect, it } from 'vitest';
import { toDts } from './dts.js';
import { type FdtErrorCode, isFdtError } from './fdt-error.js';
import { FDT_MAX_DEPTH, parseFdt } from './fdt-parse.js';
import { serializeFdt } from './fdt-serialize.js';
import { fixture } from './test-support/fixtures.js';
import { rawBlob, tok, u32, withU32 } from './test-support/raw-blob.js';
import { withoutTotalSize } from './test-support/trees.js';
import type { DeviceTree } from './tree.js';

// strings block "model\0reg\0": offsets 0 and 6.
const STRINGS = 'model\0reg\0';
const MODEL = [0x76, 0x6d, 0];
const minimal = (struct: number[], extra: Partial<Parameters<typeof rawBlob>[0]> = {}): Uint8Array =>
  rawBlob({ struct, strings: STRINGS, ...extra });
const goodStruct = [
  ...tok.begin(''),
  ...tok.prop(0, MODEL),
  ...tok.begin('cpu@0'),
  ...tok.prop(6, [0, 0, 0, 1]),
  ...tok.end,
  ...tok.end,
  ...tok.fdtEnd,
];

function expectFdtError(blob: Uint8Array, code: FdtErrorCode, offset?: number): void {
  let thrown: unknown;
  try {
    parseFdt(blob);
  } catch (e) {
    thrown = e;
  }
  expect(isFdtError(thrown), String(thrown)).toBe(true);
  if (!isFdtError(thrown)) return;
  expect(thrown.code).toBe(code);
  expect(thrown.offset).toBeTypeOf('number');
  expect(thrown.message).toContain(`at byte ${thrown.offset}`);
  if (offset !== undefined) expect(thrown.offset).toBe(offset);
}

describe('parseFdt on real blobs', () => {
  it('reads the Juno r2 header, root and node count of the manifest', () => {
    const tree = parseFdt(fixture('juno-r2.dtb').blob);
    expect(tree.header).toEqual({
      version: 17,
      lastCompatibleVersion: 16,
      bootCpuidPhys: 0,
      totalSize: 35450,
    });
    const count = (n: typeof tree.root): number => 1 + n.children.reduce((s, c) => s + count(c), 0);
    expect(count(tree.root)).toBe(258);
    expect(tree.root.name).toBe('');
    expect(new TextDecoder().decode(tree.root.properties.find((p) => p.name === 'model')?.value)).toBe(
      'ARM Juno development board (r2)\0',
    );
  });

  it('reads /memreserve/ entries as bigint (calxeda-midway)', () => {
    expect(parseFdt(fixture('calxeda-midway.dtb').blob).reserveMap).toEqual([{ address: 0n, size: 0x1000n }]);
  });

  it.each([
    ['Uint8Array', (b: Uint8Array): Uint8Array => b.slice()],
    ['Node Buffer (whose slice() is a view)', (b: Uint8Array): Uint8Array => Buffer.from(b)],
  ] as const)(
    'copies values out of a %s: mutating the input afterwards does not change the tree',
    (_, copy) => {
      const blob = copy(fixture('foundation-v8-gicv3.dtb').blob);
      const tree = parseFdt(blob);
      const before = serializeFdt(tree);
      blob.fill(0);
      expect(serializeFdt(tree)).toEqual(before);
      expect(tree.root.properties[0]?.value).not.toBeInstanceOf(Buffer);
    },
  );
});

describe('layouts libfdt accepts', () => {
  const expected = withoutTotalSize(parseFdt(minimal(goodStruct)));
  const read = (blob: Uint8Array): DeviceTree => withoutTotalSize(parseFdt(blob));

  it.each([
    [['rsv', 'struct', 'strings']],
    [['strings', 'struct', 'rsv']],
    [['struct', 'rsv', 'strings']],
    [['strings', 'rsv', 'struct']],
  ] as const)('blocks in order %j, with free space between and after', (order) => {
    expect(read(minimal(goodStruct, { order, gap: 12, tail: 64 }))).toEqual(expected);
  });

  it('ignores FDT_NOP before the root, between tokens and after the root', () => {
    const struct = [
      ...tok.nop,
      ...tok.begin(''),
      ...tok.nop,
      ...tok.prop(0, MODEL),
      ...tok.nop,
      ...tok.begin('cpu@0'),
      ...tok.prop(6, [0, 0, 0, 1]),
      ...tok.end,
      ...tok.nop,
      ...tok.end,
      ...tok.nop,
      ...tok.fdtEnd,
    ];
    expect(read(minimal(struct))).toEqual(expected);
  });

  it('accepts properties after subnodes (libfdt does; the tree keeps them with the others)', () => {
    const struct = [
      ...tok.begin(''),
      ...tok.begin('cpu@0'),
      ...tok.prop(6, [0, 0, 0, 1]),
      ...tok.end,
      ...tok.prop(0, MODEL),
      ...tok.end,
      ...tok.fdtEnd,
    ];
    expect(read(minimal(struct))).toEqual(expected);
  });

  it('ignores bytes past totalsize', () => {
    const blob = minimal(goodStruct);
    expect(read(Uint8Array.from([...blob, 1, 2, 3]))).toEqual(expected);
  });

  it('reads a version 18 header whose last_comp_version is 16, and writes it back as v17 as dtc does', () => {
    const tree = parseFdt(minimal(goodStruct, { version: 18 }));
    expect(tree.header.version).toBe(18);
    const v17 = serializeFdt(tree, { padding: 'none' });
    expect(u32(v17, 20)).toBe(17);
    expect(u32(v17, 24)).toBe(16);
    expect(serializeFdt(parseFdt(minimal(goodStruct)), { padding: 'none' })).toEqual(v17);
  });

  it("writes dtc's last_comp_version when the tree's cannot be written (0, or above the version)", () => {
    const tree = parseFdt(minimal(goodStruct));
    for (const given of [0, 18]) {
      const blob = serializeFdt({ ...tree, header: { ...tree.header, lastCompatibleVersion: given } });
      expect(u32(blob, 24)).toBe(16);
    }
    expect(() => serializeFdt({ ...tree, header: { ...tree.header, version: 1 } })).toThrow(
      /FDT_ERR_BADVERSION/,
    );
  });
});

describe('input that is not a blob', () => {
  it.each([null, undefined, 'abc', 42, new ArrayBuffer(40), [0xd0, 0x0d, 0xfe, 0xed]])(
    '%o is refused with FDT_ERR_BADVALUE, never a TypeError',
    (input) => {
      expectFdtError(input as unknown as Uint8Array, 'BADVALUE');
    },
  );
});

describe('malformed blobs: libfdt error names and the byte offset', () => {
  const good = minimal(goodStruct);
  const structOff = u32(good, 8);
  const stringsOff = u32(good, 12);

  it.each<[string, Uint8Array, FdtErrorCode, number?]>([
    ['shorter than a v1 header', good.subarray(0, 20), 'TRUNCATED', 0],
    ['bad magic', withU32(good, 0, 0xfeedd00d), 'BADMAGIC', 0],
    ['version 1', withU32(withU32(good, 20, 1), 24, 1), 'BADVERSION', 20],
    ['last_comp_version 18', withU32(good, 24, 18), 'BADVERSION', 24],
    ['version below last_comp_version', withU32(withU32(good, 20, 16), 24, 17), 'BADVERSION', 20],
    ['totalsize smaller than the header', withU32(good, 4, 20), 'TRUNCATED', 4],
    ['totalsize of 2^31 or more', withU32(good, 4, 0x80000000), 'TRUNCATED', 4],
    ['buffer shorter than totalsize', good.subarray(0, good.length - 1), 'TRUNCATED'],
    ['reserve map offset past totalsize', withU32(good, 16, good.length + 8), 'TRUNCATED', 16],
    ['structure block past totalsize', withU32(good, 36, good.length), 'TRUNCATED', 8],
    ['structure offset + size wrapping 2^32', withU32(good, 36, 0xfffffff0), 'TRUNCATED', 8],
    ['strings block past totalsize', withU32(good, 32, good.length), 'TRUNCATED', 12],
    ['unknown token', withU32(good, structOff + 8, 0x7), 'BADSTRUCTURE', structOff + 8],
    [
      'property length past the structure block',
      withU32(good, structOff + 12, 0x1000),
      'BADSTRUCTURE',
      structOff + 12,
    ],
    ['property length 0xffffffff', withU32(good, structOff + 12, 0xffffffff), 'BADSTRUCTURE', structOff + 12],
    [
      'property name offset past the strings block',
      withU32(good, structOff + 16, 100),
      'BADOFFSET',
      structOff + 16,
    ],
    [
      'property name offset negative as int32',
      withU32(good, structOff + 16, 0x80000000),
      'BADOFFSET',
      structOff + 16,
    ],
    ['property name running past the strings block', withU32(good, 32, 3), 'TRUNCATED', stringsOff],
    ['structure block without FDT_END', withU32(good, 36, u32(good, 36) - 4), 'TRUNCATED'],
  ])('%s', (_, blob, code, offset) => {
    expectFdtError(blob, code, offset);
  });

  it.each<[string, number[], FdtErrorCode]>([
    [
      'two roots',
      [...tok.begin(''), ...tok.end, ...tok.begin(''), ...tok.end, ...tok.fdtEnd],
      'BADSTRUCTURE',
    ],
    ['a named root', [...tok.begin('root'), ...tok.end, ...tok.fdtEnd], 'BADSTRUCTURE'],
    ['a token after FDT_END', [...tok.begin(''), ...tok.end, ...tok.fdtEnd, ...tok.nop], 'BADSTRUCTURE'],
    [
      'a property after the root',
      [...tok.begin(''), ...tok.end, ...tok.prop(0, MODEL), ...tok.fdtEnd],
      'BADSTRUCTURE',
    ],
    [
      'FDT_END inside a node',
      [...tok.begin(''), ...tok.begin('a'), ...tok.end, ...tok.fdtEnd],
      'BADSTRUCTURE',
    ],
    ['FDT_END_NODE outside any node', [...tok.end, ...tok.fdtEnd], 'BADSTRUCTURE'],
    [
      'a property outside any node',
      [...tok.prop(0, MODEL), ...tok.begin(''), ...tok.end, ...tok.fdtEnd],
      'BADSTRUCTURE',
    ],
    ['no root node at all', [...tok.nop, ...tok.fdtEnd], 'BADSTRUCTURE'],
    ['a node name without NUL', [0, 0, 0, 1, 0x61, 0x62, 0x63, 0x64], 'BADSTRUCTURE'],
    ['a property header cut by the block end', [...tok.begin(''), 0, 0, 0, 3, 0, 0, 0, 0], 'BADSTRUCTURE'],
  ])('%s', (_, struct, code) => {
    expectFdtError(minimal(struct), code);
  });

  it('a reserve map without its terminating entry', () => {
    // The map is the last block and ends exactly at totalsize, one entry short of its terminator.
    const blob = minimal(goodStruct, { order: ['struct', 'strings', 'rsv'], reserve: [[1n, 2n]] });
    expectFdtError(blob.subarray(0, blob.length - 16).slice(), 'TRUNCATED');
    expectFdtError(withU32(blob, 4, blob.length - 16), 'TRUNCATED');
  });

  it('a pre-v17 property length that wraps the offset (libfdt 1.6.1 fdt_check_full() loops forever here)', () => {
    const struct = [...tok.begin(''), ...tok.prop(0, [1, 2, 3, 4, 5, 6, 7, 8]), ...tok.end, ...tok.fdtEnd];
    const blob = minimal(struct, { version: 16, lastComp: 16 });
    expect(parseFdt(blob).root.properties).toHaveLength(1);
    expectFdtError(withU32(blob, u32(blob, 8) + 12, 0xfffffff0), 'BADSTRUCTURE', u32(blob, 8) + 12);
  });

  it('a pre-v16 node name that is not a full path', () => {
    const struct = [...tok.begin('/'), ...tok.begin('cpu'), ...tok.end, ...tok.end, ...tok.fdtEnd];
    expectFdtError(minimal(struct, { version: 3, lastComp: 1 }), 'BADSTRUCTURE');
  });

  it(`nesting deeper than FDT_MAX_DEPTH (${FDT_MAX_DEPTH}) levels`, () => {
    const depth = (n: number): number[] => [
      ...tok.begin(''),
      ...Array.from({ length: n }, () => tok.begin('n')).flat(),
      ...Array.from({ length: n + 1 }, () => tok.end).flat(),
      ...tok.fdtEnd,
    ];
    expect(() => parseFdt(minimal(depth(FDT_MAX_DEPTH - 1)))).not.toThrow();
    expectFdtError(minimal(depth(FDT_MAX_DEPTH)), 'BADSTRUCTURE');
  });

  it('accepts a real tree nested 70 deep, as libfdt, dtc and the kernel do', () => {
    const depth = (n: number): number[] => [
      ...tok.begin(''),
      ...Array.from({ length: n }, () => tok.begin('n')).flat(),
      ...Array.from({ length: n + 1 }, () => tok.end).flat(),
      ...tok.fdtEnd,
    ];
    const blob = minimal(depth(70));
    const tree = parseFdt(blob);
    let level = 0;
    for (let node = tree.root.children[0]; node !== undefined; node = node.children[0]) level++;
    expect(level).toBe(70);
    expect(serializeFdt(tree, { padding: 'none' }).length).toBeGreaterThan(70 * 8);
    expect(
      toDts(tree)
        .split('\n')
        .filter((line) => line.trim() === 'n {').length,
    ).toBe(70);
  });
});
