import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArmSmmuV2 } from '../hw/smmu-v2.js';
import * as R from '../hw/smmu-v2-regs.js';
import { SmmuDriverDomain } from './arm-smmu-domain.js';
import { bootSmmus } from './test-support.js';
import { masterName, type TestMaster, testTree } from './test-trees.js';

// The oracle works on sets of stream IDs, not on the kernel's bit tests: an (id, mask) entry
// matches every ID x of the 6-bit space with x = id on the bits the mask leaves clear.
const SPACE = 64;
const matched = (id: number, mask: number): Set<number> => {
  const out = new Set<number>();
  for (let x = 0; x < SPACE; x++) {
    let same = true;
    for (let bit = 0; bit < 6; bit++) {
      const m = (mask >> bit) & 1;
      if (m === 0 && ((x >> bit) & 1) !== ((id >> bit) & 1)) same = false;
    }
    if (same) out.add(x);
  }
  return out;
};
const subset = (a: Set<number>, b: Set<number>) => [...a].every((x) => b.has(x));
const meets = (a: Set<number>, b: Set<number>) => [...a].some((x) => b.has(x));

interface OracleEntry {
  readonly ids: Set<number>;
  users: number;
  group: number | null;
}

/**
 * Groups as arm-smmu forms them, restated: masters in probe order; each (id, mask) reuses the
 * live entry whose ID set contains its own, is refused when it meets any other live entry,
 * else takes a new entry; a refused master gives its entries back. The master joins the group
 * of its last entry, unless two consecutive entries already belong to different groups
 * (refused); with no group, a new one is made and stamped on all its entries.
 */
function oracle(masters: readonly (readonly [number, number][])[]): (number | null)[] {
  const entries: OracleEntry[] = [];
  const out: (number | null)[] = [];
  let next = 0;
  for (const ids of masters) {
    const taken: OracleEntry[] = [];
    let refused = false;
    for (const [id, mask] of ids) {
      const want = matched(id, mask);
      const live = entries.filter((e) => e.users > 0);
      const host = live.find((e) => subset(want, e.ids));
      if (host === undefined && live.some((e) => meets(want, e.ids))) {
        refused = true;
        break;
      }
      const entry = host ?? { ids: want, users: 0, group: null };
      if (host === undefined) entries.push(entry);
      entry.users++;
      taken.push(entry);
    }
    const release = () => {
      for (const e of taken) {
        e.users--;
        if (e.users === 0) e.group = null;
      }
    };
    if (refused) {
      release();
      out.push(null);
      continue;
    }
    const conflict = taken.some((e, i) => {
      const before = taken[i - 1];
      return before !== undefined && before.group !== null && e.group !== null && before.group !== e.group;
    });
    if (conflict) {
      release();
      out.push(null);
      continue;
    }
    let group = taken[taken.length - 1]?.group ?? null;
    if (group === null) {
      group = next++;
      for (const e of taken) e.group = group;
    }
    out.push(group);
  }
  return out;
}

const idMask = fc.tuple(
  fc.integer({ min: 0, max: SPACE - 1 }),
  fc.constantFrom(0, 0, 0, 1, 2, 3, 7, 0x10, 0x21),
);
const mastersArb = fc.array(fc.array(idMask, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 7 });

describe('arm-smmu groups against a set-based oracle', () => {
  it('groups are an equivalence partition of the grouped masters and equal the oracle’s', () => {
    fc.assert(
      fc.property(mastersArb, (spec) => {
        const masters: TestMaster[] = spec.map((ids, i) => ({
          address: 0x2000_0000 + i * 0x1_0000,
          iommus: ids.map(([id, mask]) => ['smmu', id, mask] as const),
        }));
        const tree = testTree(
          [{ label: 'smmu', compatible: ['arm,mmu-500'], cells: 2, address: 0x1000_0000 }],
          masters,
        );
        const { smmus } = bootSmmus(tree);
        const names = masters.map(masterName);
        const groups = smmus.probe.groups;
        // A partition: every member in exactly one group, no empty group.
        const members = groups.flatMap((g) => g.devices);
        expect(new Set(members).size).toBe(members.length);
        expect(groups.every((g) => g.devices.length > 0)).toBe(true);
        for (const name of names) {
          const group = smmus.groupOf(name);
          expect(group === undefined ? 0 : groups.filter((g) => g.devices.includes(name)).length).toBe(
            group === undefined ? 0 : 1,
          );
        }
        // The same partition as the oracle (group numbering aside).
        const expected = oracle(spec);
        for (let i = 0; i < names.length; i++) {
          for (let j = 0; j < names.length; j++) {
            const a = smmus.groupOf(names[i]!);
            const b = smmus.groupOf(names[j]!);
            expect(a === undefined).toBe(expected[i] === null);
            if (a !== undefined && b !== undefined) expect(a === b).toBe(expected[i] === expected[j]);
          }
        }
        // The hardware agrees: each ID of a grouped master matches exactly one valid SMR, whose
        // S2CR translates through the default-domain bank of the last-probed grouped master
        // using that entry (an entry shared across groups, which the kernel allows through its
        // [G, none] case, follows the group attached last).
        const model = smmus.models.get('10000000.iommu') as ArmSmmuV2;
        const smrs = [...Array(128).keys()].map((i) => model.read(R.GR0_SMR_BASE + 4 * i, 4));
        const entryIds = (smr: number) => matched(smr & 0xffff, (smr >>> 16) & 0x7fff);
        for (let i = 0; i < names.length; i++) {
          if (smmus.groupOf(names[i]!) === undefined) continue;
          for (const [id] of spec[i]!) {
            const hits = smrs
              .map((smr, at) => ({ smr, at }))
              .filter(({ smr }) => (smr & R.SMR_VALID) !== 0 && entryIds(smr).has(id));
            expect(hits).toHaveLength(1);
            const users = names.filter(
              (name, j) =>
                smmus.groupOf(name) !== undefined &&
                spec[j]!.some(([other]) => entryIds(hits[0]!.smr).has(other)),
            );
            const domain = smmus.groupOf(users[users.length - 1]!)?.defaultDomain;
            expect(domain).toBeInstanceOf(SmmuDriverDomain);
            const s2cr = model.read(R.GR0_S2CR_BASE + 4 * hits[0]!.at, 4);
            expect(s2cr & 0xff).toBe((domain as SmmuDriverDomain).context);
            expect((s2cr >>> 16) & 3).toBe(R.S2CR_TYPE_TRANS);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('arm-smmu-v3 groups against an ownership oracle', () => {
  it("each master whose stream IDs no other master owns gets a group of its own (its own repeats are skipped); another master's ID refuses it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 6,
        }),
        (spec) => {
          const masters: TestMaster[] = spec.map((sids, i) => ({
            address: 0x2000_0000 + i * 0x1_0000,
            iommus: sids.map((sid) => ['smmu', sid] as const),
          }));
          const tree = testTree(
            [{ label: 'smmu', compatible: ['arm,smmu-v3'], cells: 1, address: 0x1000_0000 }],
            masters,
          );
          const { smmus } = bootSmmus(tree);
          // Oracle: the set of owned stream IDs grows with each accepted master.
          const owned = new Set<number>();
          const groups = new Set<unknown>();
          spec.forEach((sids, i) => {
            const fresh = sids.every((sid) => !owned.has(sid));
            const group = smmus.groupOf(masterName(masters[i]!));
            expect(group !== undefined).toBe(fresh);
            if (!fresh) return;
            for (const sid of sids) owned.add(sid);
            expect(group?.devices).toEqual([masterName(masters[i]!)]);
            groups.add(group);
          });
          expect(smmus.probe.groups.length).toBe(groups.size);
        },
      ),
      { numRuns: 100 },
    );
  });
});
