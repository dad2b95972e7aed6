// Fuzzing with mutations of real blobs: structural edits of the tree (interrupt-parent and
// interrupt-map cycles, DMA-parent rings, alias loops, duplicate phandles, references
// rewritten with real phandles and garbage), then byte mutations of its blob. Whatever the
// bytes, parseFdt returns a tree or throws an FdtError naming a byte offset — never a
// RangeError/TypeError, never a hang — and a tree it returns serializes and re-reads to
// itself, and populate() and every semantic lookup on it answer or throw only FdtError.
// Where the host's libfdt fdt_check_full() rejects a mutated blob, parseFdt must reject it too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDts } from './dts.js';
import { isFdtError } from './fdt-error.js';
import { parseFdt } from './fdt-parse.js';
import { serializeFdt } from './fdt-serialize.js';
import { fixture } from './test-support/fixtures.js';
import { libfdtCheckFull } from './test-support/libfdt.js';
import { arbitraryMutation, type Mutation, mutate } from './test-support/mutate.js';
import { hasNopAfterRoot, rawBlob, tok } from './test-support/raw-blob.js';
import { exerciseSemantics } from './test-support/semantics.js';
import { arbitraryTreeEdit, editTree, type TreeEdit } from './test-support/tree-edits.js';
import type { DeviceTree, DtNode } from './tree.js';

function baseBlobs(): Uint8Array[] {
  const small = [
    'calxeda-midway.dtb',
    'foundation-v8-gicv3.dtb',
    'arm64_marvell_armada-8080-db.dtb',
    'arm64_amlogic_amlogic-a4-a113l2-ba400.dtb',
  ].map((f) => fixture(f).blob);
  // QEMU's tree, compacted (the 1 MiB of padding only slows the fuzzer down).
  const qemu = serializeFdt(parseFdt(fixture('qemu-virt-gicv2.dtb').blob));
  const v3 = serializeFdt({
    ...parseFdt(small[1] as Uint8Array),
    header: { version: 3, lastCompatibleVersion: 1, bootCpuidPhys: 0 },
  });
  const v2 = serializeFdt({
    ...parseFdt(small[1] as Uint8Array),
    header: { version: 2, lastCompatibleVersion: 1, bootCpuidPhys: 0 },
  });
  const v16 = serializeFdt({
    ...parseFdt(small[0] as Uint8Array),
    header: { version: 16, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
  });
  const struct = [
    ...tok.begin(''),
    ...tok.prop(0, [0x61, 0]),
    ...tok.begin('a@1'),
    ...tok.prop(6, [0, 0, 0, 1, 0, 0, 0, 2]),
    ...tok.nop,
    ...tok.end,
    ...tok.end,
    ...tok.fdtEnd,
  ];
  const reordered = rawBlob({
    struct,
    strings: 'model\0reg\0',
    order: ['strings', 'struct', 'rsv'],
    gap: 8,
    reserve: [[0x1000n, 0x2000n]],
  });
  return [...small, qemu, v2, v3, v16, reordered];
}

/** Node names and non-`name` property names and sizes, as one string. */
function shape(node: DtNode): string {
  const props = node.properties.filter((p) => p.name !== 'name').map((p) => `${p.name}:${p.value.length}`);
  return `${node.name}(${props.join(',')})[${node.children.map(shape).join(',')}]`;
}

type Outcome = { readonly tree: DeviceTree } | { readonly code: string };

function outcome(blob: Uint8Array): Outcome {
  try {
    return { tree: parseFdt(blob) };
  } catch (e) {
    if (!isFdtError(e)) throw e;
    expect(e.offset).toBeTypeOf('number');
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.message).toMatch(/^FDT_ERR_[A-Z]+ at byte \d+: /);
    return { code: e.code };
  }
}

const BASE_BLOBS = baseBlobs();
const BASE_TREES = BASE_BLOBS.map((blob) => parseFdt(blob));
// The counterexample is the base blob's index, the tree edits and the byte mutations; the blob is
// rebuilt from them. At least one edit or mutation per case.
const mutated = fc
  .record({
    base: fc.nat({ max: BASE_BLOBS.length - 1 }),
    edits: fc.array(arbitraryTreeEdit, { maxLength: 3 }),
    mutations: fc.array(arbitraryMutation, { maxLength: 4 }),
  })
  .filter((m) => m.edits.length + m.mutations.length > 0);
interface Case {
  readonly base: number;
  readonly edits: readonly TreeEdit[];
  readonly mutations: readonly Mutation[];
}
const blobOf = (m: Case): Uint8Array => {
  const blob =
    m.edits.length === 0
      ? (BASE_BLOBS[m.base] as Uint8Array)
      : serializeFdt(editTree(BASE_TREES[m.base] as DeviceTree, m.edits), { padding: 'none' });
  return mutate(blob, m.mutations);
};

describe('fuzz: mutated real blobs', () => {
  it('parse never crashes; an accepted tree re-serializes, re-reads equal, prints, and its lookups throw only FdtError (24,000 cases)', () => {
    let accepted = 0;
    let cycles = 0;
    fc.assert(
      fc.property(mutated, (m) => {
        const result = outcome(blobOf(m));
        // Tree edits alone always give a well-formed blob.
        if (m.mutations.length === 0) expect('tree' in result, JSON.stringify(m.edits)).toBe(true);
        if ('code' in result) return;
        accepted++;
        const { tree } = result;
        // populate() and every lookup on every node: an answer or an FdtError, never a hang.
        if ((exerciseSemantics(tree).codes.get('CYCLE') ?? 0) > 0) cycles++;
        let again: Uint8Array;
        try {
          again = serializeFdt(tree);
        } catch (e) {
          // Versions dtc cannot write, or names a pre-v16 layout cannot hold: typed refusals.
          expect(isFdtError(e, 'BADVERSION') || isFdtError(e, 'BADVALUE'), String(e)).toBe(true);
          return;
        }
        // Re-reading gives the same tree: its blob is a fixed point of serialize∘parse, and
        // it has the same nodes (before v16 dtc's writer adds `name` properties, FTF_NAMEPROPS).
        const back = parseFdt(again);
        expect(Buffer.compare(serializeFdt(back), again)).toBe(0);
        expect(shape(back.root)).toBe(shape(tree.root));
        expect(typeof toDts(tree)).toBe('string');
      }),
      { numRuns: 24_000 },
    );
    // The mutations are not all fatal: some still parse (NOPs, value bytes, padding), and
    // the cycle edits do reach the lookups' cycle detection.
    expect(accepted).toBeGreaterThan(0);
    expect(cycles).toBeGreaterThan(0);
  }, 180_000);

  it('rejects every mutated blob libfdt fdt_check_full() rejects, with the same FDT_ERR_ code (3,000 cases)', () => {
    const samples = fc.sample(mutated, {
      numRuns: 3000,
      ...(fc.readConfigureGlobal().seed === undefined
        ? {}
        : { seed: fc.readConfigureGlobal().seed as number }),
    });
    const blobs = samples.map(blobOf);
    const verdicts = libfdtCheckFull(blobs);
    if (verdicts === null) return;
    let rejectedByLibfdt = 0;
    samples.forEach((sample, i) => {
      const verdict = verdicts[i];
      if (verdict === 'OK') return;
      // Upstream libfdt now accepts NOPs after the root node, as parseFdt does; 1.6.1 does not.
      if (verdict === 'BADSTRUCTURE' && hasNopAfterRoot(blobs[i] as Uint8Array)) return;
      rejectedByLibfdt++;
      const ours = outcome(blobs[i] as Uint8Array);
      const where = `base blob ${sample.base}, ${JSON.stringify(sample.edits)}, ${JSON.stringify(sample.mutations)}`;
      expect('code' in ours, `libfdt says ${verdict}, parseFdt accepted: ${where}`).toBe(true);
      // libfdt 1.6.1 itself loops forever on a few blobs (HANG); parseFdt only has to refuse them.
      if (verdict === 'HANG' || verdict === 'CRASH' || !('code' in ours)) return;
      expect(ours.code, where).toBe(verdict);
    });
    expect(rejectedByLibfdt).toBeGreaterThan(100);
  }, 120_000);
});
