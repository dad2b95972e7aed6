import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDts } from './dts.js';
import { parseFdt } from './fdt-parse.js';
import { serializeFdt } from './fdt-serialize.js';
import { fixture, fixtures, hasDtc, runDtc } from './test-support/fixtures.js';
import { arbitraryTree, withoutTotalSize } from './test-support/trees.js';
import type { DeviceTree } from './tree.js';

function u32At(blob: Uint8Array, at: number): number {
  return new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(at, false);
}

describe('serializeFdt(parseFdt(b))', () => {
  it.each(
    fixtures()
      .filter((f) => !f.qemu)
      .map((f) => [f.name, f] as const),
  )('is byte-identical for dtc-built %s', (_, f) => {
    expect(Buffer.from(serializeFdt(parseFdt(f.blob))).equals(Buffer.from(f.blob))).toBe(true);
  });

  it.each(['qemu-virt-gicv2.dtb', 'qemu-virt-gicv3-its-smmuv3.dtb'])(
    're-reads QEMU %s to an equal tree, keeping its 1 MiB unless told not to',
    (file) => {
      const { blob } = fixture(file);
      const tree = parseFdt(blob);
      expect(tree.header.totalSize).toBe(0x100000);
      // Default: QEMU's buffer size is kept, zero-filled after the (dtc-ordered) strings block.
      const kept = serializeFdt(tree);
      expect(kept.length).toBe(0x100000);
      expect(u32At(kept, 4)).toBe(0x100000);
      expect(parseFdt(kept)).toEqual(tree);
      // padding: 'none' ends the blob at its strings block, as dtc -I dtb -O dtb does.
      const compact = serializeFdt(tree, { padding: 'none' });
      expect(compact.length).toBeLessThan(0x4000);
      expect(u32At(compact, 4)).toBe(compact.length);
      expect(kept.subarray(0, compact.length).subarray(40)).toEqual(compact.subarray(40));
      expect(kept.subarray(compact.length).every((b) => b === 0)).toBe(true);
      expect(withoutTotalSize(parseFdt(compact))).toEqual(withoutTotalSize(tree));
    },
  );

  it.each([
    ['-p 1024', ['-p', '1024']],
    ['-S 65536', ['-S', '65536']],
    ['-a 4096', ['-a', '4096']],
  ])('is byte-identical for a dtc %s blob (the padding is kept)', (_, args) => {
    if (!hasDtc()) return;
    const run = runDtc(['-I', 'dtb', '-O', 'dtb', ...args], fixture('juno-r2.dtb').blob);
    expect(run.status).toBe(0);
    const padded = new Uint8Array(run.stdout);
    expect(padded.length).toBeGreaterThan(fixture('juno-r2.dtb').blob.length);
    expect(Buffer.from(serializeFdt(parseFdt(padded))).equals(run.stdout)).toBe(true);
  });

  it('writes what dtc -I dtb -O dtb writes for the QEMU blobs', () => {
    if (!hasDtc()) return;
    for (const file of ['qemu-virt-gicv2.dtb', 'qemu-virt-gicv3-its-smmuv3.dtb']) {
      const run = runDtc(['-I', 'dtb', '-O', 'dtb'], fixture(file).blob);
      expect(run.status).toBe(0);
      expect(
        Buffer.from(serializeFdt(parseFdt(fixture(file).blob), { padding: 'none' })).equals(run.stdout),
      ).toBe(true);
    }
  });
});

describe('dtc padding options', () => {
  const cases: readonly [string[], Parameters<typeof serializeFdt>[1]][] = [
    [['-S', '40000'], { minSize: 40000 }],
    [['-p', '1000'], { padSize: 1000 }],
    [['-a', '4096'], { alignSize: 4096 }],
    [['-p', '10', '-a', '64'], { padSize: 10, alignSize: 64 }],
  ];
  it.each(cases)('dtc %j matches', (args, options) => {
    if (!hasDtc()) return;
    const { blob } = fixture('juno-r2.dtb');
    const run = runDtc(['-I', 'dtb', '-O', 'dtb', ...args], blob);
    expect(run.status).toBe(0);
    expect(Buffer.from(serializeFdt(parseFdt(blob), options)).equals(run.stdout)).toBe(true);
  });
});

describe('padding options', () => {
  it.each([{ minSize: -1 }, { padSize: 1.5 }, { alignSize: 3 }, { minSize: 2 ** 31 }])(
    'refuses %j',
    (options) => {
      expect(() => serializeFdt(parseFdt(fixture('calxeda-midway.dtb').blob), options)).toThrow(
        /FDT_ERR_BADVALUE/,
      );
    },
  );
});

describe('older versions', () => {
  it.each([2, 3, 16])(
    'dtc -V %i blobs parse to the v17 tree and re-serialize byte-identically',
    (version) => {
      if (!hasDtc()) return;
      const { blob } = fixture('foundation-v8-gicv3.dtb');
      const run = runDtc(['-I', 'dtb', '-O', 'dtb', '-V', String(version)], blob);
      expect(run.status).toBe(0);
      const old = new Uint8Array(run.stdout);
      const tree = parseFdt(old);
      expect(tree.header.version).toBe(version);
      expect(Buffer.from(serializeFdt(tree)).equals(Buffer.from(old))).toBe(true);
      // dtc prints the old blob as toDts prints its tree (generated `name` properties included).
      expect(toDts(tree)).toBe(runDtc(['-I', 'dtb', '-O', 'dts', '-q'], old).stdout.toString('latin1'));
      const v17 = parseFdt(blob);
      if (version >= 16) {
        expect(tree.root).toEqual(v17.root);
      } else {
        // Pre-v16 blobs carry dtc's generated `name` properties (FTF_NAMEPROPS); otherwise equal.
        expect(withoutNameProps(tree.root)).toEqual(withoutNameProps(v17.root));
      }
    },
  );
});

function withoutNameProps(node: DeviceTree['root']): DeviceTree['root'] {
  return {
    name: node.name,
    properties: node.properties.filter((p) => p.name !== 'name'),
    children: node.children.map(withoutNameProps),
  };
}

describe('property: arbitrary trees', () => {
  it('parse(serialize(t)) equals t for versions 2, 3, 16 and 17', () => {
    fc.assert(
      fc.property(arbitraryTree(), fc.constantFrom(2, 3, 16, 17), (tree, version) => {
        const versioned: DeviceTree = {
          ...tree,
          header: { ...tree.header, version, lastCompatibleVersion: version >= 16 ? 16 : 1 },
        };
        const first = versioned.reserveMap[0];
        if (version === 2 && first !== undefined && first.address >= 1n << 32n) {
          // libfdt would take the address's high word for size_dt_strings (see serializeFdt).
          expect(() => serializeFdt(versioned)).toThrow(/FDT_ERR_BADVALUE/);
          return;
        }
        const back = parseFdt(serializeFdt(versioned));
        // Before v16 dtc adds a `name` property to every node (FTF_NAMEPROPS); the generator makes none.
        const read = withoutTotalSize(back);
        expect(version >= 16 ? read : { ...read, root: withoutNameProps(read.root) }).toEqual(versioned);
      }),
      { numRuns: 300 },
    );
  });

  it('serialize(t) is what dtc -I dtb -O dtb writes for it (differential, batched)', () => {
    if (!hasDtc()) return;
    fc.assert(
      fc.property(arbitraryTree(), (tree) => {
        const blob = serializeFdt(tree);
        const run = runDtc(['-I', 'dtb', '-O', 'dtb', '-f', '-q'], blob);
        expect(run.timedOut).toBe(false);
        expect(Buffer.from(blob).equals(run.stdout)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
