// The policy's two safety invariants as fast-check properties, each also run against a planted
// bug and required to fail there (a property that cannot fail proves nothing):
//   1. no device is judged `non-master` without an explicit non-master rule;
//   2. hard evidence of mastering (iommus, iommu-map, msi-parent, #dma-cells, dma-coherent) always
//      yields `master`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessDmaCapability } from './assess.js';
import type { DmaFacts } from './facts.js';
import { MASTER_CLASSES } from './master-classes.js';
import { NON_MASTER_CLASSES } from './non-master-classes.js';
import type { DmaOverride, DmaPolicyOptions } from './options.js';
import { type DmaCapabilityVerdict, HARD_MASTER_EVIDENCE, MAX_REASON_LENGTH } from './verdict.js';

type Assess = (facts: DmaFacts, options: DmaPolicyOptions) => DmaCapabilityVerdict;

const PATHS = ['/a@0', '/soc/b@1000', '/soc/c@2000'];
const NAMES = ['0.a', '1000.b', '2000.c'];
const COMPATIBLES = [
  ...NON_MASTER_CLASSES.flatMap((entry) => entry.compatibles),
  ...MASTER_CLASSES.flatMap((entry) => entry.compatibles).map((pattern) => pattern.replaceAll('*', 'x')),
  'arm,primecell',
  'vendor,gadget',
  'vendor,uart-plus',
  'rockchip,rk3568-i2c',
];
const PERIPHIDS = [0x00041011, 0x00341011, 0x00041031, 0x00041061, 0x00380802, 0x00141805, 0x10153180];

const factsArb: fc.Arbitrary<DmaFacts> = fc.record(
  {
    path: fc.constantFrom(...PATHS),
    deviceName: fc.constantFrom(...NAMES),
    compatible: fc.array(fc.constantFrom(...COMPATIBLES), { maxLength: 3 }),
    status: fc.constantFrom('okay', 'disabled'),
    iommus: fc.array(fc.constantFrom('/smmu@0', '/smmu@1'), { maxLength: 2 }),
    iommuMap: fc.boolean(),
    msiParent: fc.boolean(),
    dmaCells: fc.nat(3),
    dmaMasters: fc.array(fc.constantFrom('/dma@0'), { maxLength: 1 }),
    dmaCoherent: fc.boolean(),
    dmas: fc.array(
      fc.record({ provider: fc.constantFrom('/dma@0', '/dma@1', '/a@0'), name: fc.constantFrom('tx', 'rx') }),
      { maxLength: 3 },
    ),
    noDma: fc.oneof(fc.boolean(), fc.string({ maxLength: 120 })),
    periphid: fc.constantFrom(...PERIPHIDS),
  },
  { requiredKeys: ['compatible'] },
);

const overrideArb: fc.Arbitrary<DmaOverride> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...PATHS).map((path) => ({ path })),
      fc.constantFrom(...NAMES).map((device) => ({ device })),
      fc.constantFrom(...COMPATIBLES).map((compatible) => ({ compatible })),
    ),
    fc.constantFrom('master' as const, 'non-master' as const),
    fc.option(
      fc.string({ maxLength: 150 }).map((text) => text.replace(/[\r\n]/g, ' ')),
      { nil: undefined },
    ),
  )
  .map(([key, verdict, reason]) => ({ ...key, verdict, ...(reason === undefined ? {} : { reason }) }));

const optionsArb: fc.Arbitrary<DmaPolicyOptions> = fc.record(
  {
    overrides: fc.uniqueArray(overrideArb, {
      maxLength: 4,
      selector: (o) => `${o.path ?? ''}|${o.device ?? ''}|${o.compatible ?? ''}`,
    }),
    dtProperty: fc.boolean(),
    builtinNonMasterClasses: fc.boolean(),
  },
  { requiredKeys: [] },
);

// An independent reading of "an explicit non-master rule applies" (not the implementation's code).
function explicitNonMasterRule(facts: DmaFacts, options: DmaPolicyOptions): boolean {
  const names = new Set([
    `path:${facts.path}`,
    `device:${facts.deviceName}`,
    ...facts.compatible.map((c) => `compatible:${c}`),
  ]);
  const byOverride = (options.overrides ?? []).some(
    (o) =>
      o.verdict === 'non-master' &&
      names.has(
        `${o.path ? 'path' : o.device ? 'device' : 'compatible'}:${o.path ?? o.device ?? o.compatible}`,
      ),
  );
  const byProperty = (options.dtProperty ?? true) && facts.noDma !== undefined && facts.noDma !== false;
  // Permissive on purpose: any table entry that could apply counts.
  const byTable =
    (options.builtinNonMasterClasses ?? true) &&
    NON_MASTER_CLASSES.some(
      (e) =>
        facts.compatible.some((c, i) => (i === 0 || e.matchFallback === true) && e.compatibles.includes(c)) &&
        (e.primecellPart === undefined ||
          facts.periphid === undefined ||
          (facts.periphid & 0xfffff) === (0x41000 | e.primecellPart)),
    );
  return byOverride || byProperty || byTable;
}

function hardEvidence(facts: DmaFacts): boolean {
  return (
    (facts.iommus ?? []).length > 0 ||
    facts.iommuMap === true ||
    facts.msiParent === true ||
    facts.dmaCoherent === true ||
    (facts.dmaCells !== undefined && (facts.dmaMasters ?? []).length === 0)
  );
}

const onlyExplicit = (assess: Assess) =>
  fc.property(factsArb, optionsArb, (facts, options) => {
    const v = assess(facts, options);
    if (v.verdict === 'non-master') expect(explicitNonMasterRule(facts, options)).toBe(true);
  });

const noRulesNoNonMaster = (assess: Assess) =>
  fc.property(factsArb, optionsArb, (facts, options) => {
    const masterOnly = (options.overrides ?? []).filter((o) => o.verdict === 'master');
    const v = assess(facts, { overrides: masterOnly, dtProperty: false, builtinNonMasterClasses: false });
    expect(v.verdict).not.toBe('non-master');
  });

const hardIsMaster = (assess: Assess) =>
  fc.property(factsArb, optionsArb, (facts, options) => {
    const v = assess(facts, options);
    if (hardEvidence(facts)) {
      expect(v.verdict).toBe('master');
      expect(HARD_MASTER_EVIDENCE).toContain(v.rule);
    }
  });

const RUNS = { numRuns: 2000 };
const real: Assess = assessDmaCapability;

describe('property 1: non-master only through an explicit rule', () => {
  it('a non-master verdict always has an explicit non-master rule behind it', () => {
    fc.assert(onlyExplicit(real), RUNS);
  });

  it('with every explicit non-master rule switched off, nothing is non-master', () => {
    fc.assert(noRulesNoNonMaster(real), RUNS);
  });

  it('fails on a planted bug: "no DMA evidence in the firmware → non-master" (the naive platform_dma_capable)', () => {
    const naive: Assess = (facts, options) => {
      const v = real(facts, options);
      return v.verdict === 'unknown' ? { ...v, verdict: 'non-master', cannotDma: true } : v;
    };
    expect(fc.check(onlyExplicit(naive), RUNS).failed).toBe(true);
    expect(fc.check(noRulesNoNonMaster(naive), RUNS).failed).toBe(true);
  });
});

describe('property 2: hard evidence of mastering always yields master', () => {
  it('iommus, iommu-map, msi-parent, #dma-cells (not a router) or dma-coherent → master, whatever the rules say', () => {
    fc.assert(hardIsMaster(real), RUNS);
  });

  it('fails on a planted bug: explicit rules checked before hard evidence', () => {
    const explicitFirst: Assess = (facts, options) => {
      const v = real(facts, options);
      const lost = v.overruled.find((ref) => ref.rule !== 'master-class');
      return lost === undefined ? v : { ...v, verdict: 'non-master', cannotDma: true, rule: lost.rule };
    };
    expect(fc.check(hardIsMaster(explicitFirst), RUNS).failed).toBe(true);
  });
});

describe('every verdict', () => {
  it('has one line of reason of at most 100 characters, a rule and a source; cannotDma ⇔ non-master', () => {
    fc.assert(
      fc.property(factsArb, optionsArb, (facts, options) => {
        const v = real(facts, options);
        expect(v.reason.length).toBeGreaterThan(0);
        expect(v.reason.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
        expect(v.reason).not.toMatch(/[\r\n]/);
        expect(v.source.length).toBeGreaterThan(0);
        expect(v.cannotDma).toBe(v.verdict === 'non-master');
        expect(new Set(v.dependsOnDmaEngine).size).toBe(v.dependsOnDmaEngine.length);
      }),
      RUNS,
    );
  });
});
