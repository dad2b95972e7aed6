import { compatibleMatcher, type DmaClassEntry } from './class-entry.js';
import { checkDmaFacts, type DmaFacts, VFIOKIT_NO_DMA_PROPERTY } from './facts.js';
import { MASTER_CLASSES } from './master-classes.js';
import { NON_MASTER_CLASSES } from './non-master-classes.js';
import { oneLine } from './one-line.js';
import {
  type CompiledDmaPolicyOptions,
  compileDmaPolicyOptions,
  type DmaOverride,
  type DmaOverrideKind,
  type DmaPolicyOptions,
  overrideKey,
} from './options.js';
import type { DmaCapability, DmaCapabilityVerdict, DmaRuleRef } from './verdict.js';

// Sources of the hard evidence: where Linux reads each property and what it does with it.
const SOURCE = {
  iommus: 'bindings/iommu/iommu.txt; drivers/iommu/of_iommu.c (of_iommu_configure)',
  iommuMap: 'bindings/pci/pci-iommu.txt; drivers/iommu/of_iommu.c (of_iommu_configure_dev_id)',
  msiParent: 'dt-schema msi-consumer.yaml (an MSI is a memory write); drivers/of/irq.c (of_msi_get_domain)',
  dmaController: 'bindings/dma/dma-controller.yaml; drivers/dma/of-dma.c (of_dma_controller_register)',
  dmaCoherent: 'bindings/dma/dma-common.yaml (dma-coherent); drivers/of/address.c (of_dma_is_coherent)',
  override: 'user override',
  dtProperty: `vfiokit's own ${VFIOKIT_NO_DMA_PROPERTY} property (not a Linux binding)`,
  noRule: 'vfiokit policy: non-master only through an explicit rule',
} as const;

interface CompiledEntry {
  readonly entry: DmaClassEntry;
  readonly matches: (compatible: string) => boolean;
}

const compile = (table: readonly DmaClassEntry[]): readonly CompiledEntry[] =>
  table.map((entry) => ({ entry, matches: compatibleMatcher(entry.compatibles) }));

const MASTER = compile(MASTER_CLASSES);
const NON_MASTER = compile(NON_MASTER_CLASSES);

/** ARM Ltd's JEP106 designer code in PrimeCell periphid bits 19:12. */
const ARM_DESIGNER = 0x41;

/** The first master-class entry matching any compatible, in compatible order. */
function masterClassOf(compatible: readonly string[]): DmaClassEntry | undefined {
  for (const name of compatible) {
    const hit = MASTER.find((candidate) => candidate.matches(name));
    if (hit !== undefined) return hit.entry;
  }
  return undefined;
}

/**
 * The non-master entry for the most specific compatible (or for a fallback compatible, when the
 * entry is a `matchFallback` family), and whether a periphid rules it out.
 */
function nonMasterClassOf(facts: DmaFacts): { entry: DmaClassEntry; periphidMismatch: boolean } | undefined {
  let hit: CompiledEntry | undefined;
  for (const [index, name] of facts.compatible.entries()) {
    hit = NON_MASTER.find((c) => (index === 0 || c.entry.matchFallback === true) && c.matches(name));
    if (hit !== undefined) break;
  }
  if (hit === undefined) return undefined;
  const part = hit.entry.primecellPart;
  const periphidMismatch =
    part !== undefined &&
    facts.periphid !== undefined &&
    (facts.periphid & 0xfffff) !== ((ARM_DESIGNER << 12) | part);
  return { entry: hit.entry, periphidMismatch };
}

/** The most specific override for the device: path, then device name, then compatible order. */
function overrideOf(
  facts: DmaFacts,
  options: CompiledDmaPolicyOptions,
): { override: DmaOverride; kind: DmaOverrideKind; ref: DmaRuleRef } | undefined {
  const candidates: [DmaOverrideKind, string | undefined][] = [
    ['path', facts.path],
    ['device', facts.deviceName],
    ...facts.compatible.map((name): [DmaOverrideKind, string] => ['compatible', name]),
  ];
  for (const [kind, value] of candidates) {
    if (value === undefined) continue;
    const key = overrideKey(kind, value);
    const override = options.overrides.get(key);
    if (override !== undefined)
      return { override, kind, ref: { rule: 'override', entry: key, source: SOURCE.override } };
  }
  return undefined;
}

/** Hard firmware evidence that the device masters the bus, strongest first. */
function hardEvidence(facts: DmaFacts): { ref: DmaRuleRef; reason: string }[] {
  const evidence: { ref: DmaRuleRef; reason: string }[] = [];
  const iommus = facts.iommus ?? [];
  if (iommus.length > 0)
    evidence.push({
      ref: { rule: 'iommus', source: SOURCE.iommus },
      reason: `has iommus: masters DMA through ${iommus[0]}`,
    });
  if (facts.iommuMap === true)
    evidence.push({
      ref: { rule: 'iommu-map', source: SOURCE.iommuMap },
      reason: 'has iommu-map: devices below it master DMA through an IOMMU',
    });
  if (facts.msiParent === true)
    evidence.push({
      ref: { rule: 'msi-parent', source: SOURCE.msiParent },
      reason: 'has msi-parent: it writes its MSIs to memory, so it masters the bus',
    });
  if (facts.dmaCells !== undefined && (facts.dmaMasters ?? []).length === 0)
    evidence.push({
      ref: { rule: 'dma-controller', source: SOURCE.dmaController },
      reason: `DMA controller (#dma-cells = ${facts.dmaCells}): masters the bus for its clients`,
    });
  if (facts.dmaCoherent === true)
    evidence.push({
      ref: { rule: 'dma-coherent', source: SOURCE.dmaCoherent },
      reason: 'dma-coherent: the firmware says it does cache-coherent DMA',
    });
  return evidence;
}

function classRef(rule: 'master-class' | 'non-master-class', entry: DmaClassEntry): DmaRuleRef {
  return { rule, entry: entry.id, source: entry.source };
}

/** How an overruled rule (an override, the DT property or a class entry) is named in a reason. */
function nameOf(ref: DmaRuleRef): string {
  if (ref.rule === 'override') return 'user override';
  return ref.entry ?? VFIOKIT_NO_DMA_PROPERTY;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * The DMA-capability policy (the `platform_dma_capable()` the 2024 RFC asked for; vfiokit's
 * own design — nothing of it is in Linux). Precedence, first match wins:
 *
 * 1. hard firmware evidence — `iommus`, `iommu-map`, `msi-parent`, `#dma-cells` (not a DMA
 *    router), own `dma-coherent` — is `master`, and no explicit rule overrules it: a wrong
 *    `non-master` hands an unisolated bus master to a guest, a wrong `master` only refuses;
 * 2. a user override (`master` or `non-master`), most specific first;
 * 3. vfiokit's `vfiokit,no-dma` property on the node → `non-master`;
 * 4. the built-in bus-master class table → `master`;
 * 5. the built-in non-master class table (most specific compatible; fallbacks for families) → `non-master`;
 * 6. otherwise `unknown`.
 *
 * Device-specific statements (2, 3) beat the generic class tables (4, 5); the rules that lost
 * are listed in `overruled`. A device with `dmas` uses DMA engines it does not own: they are
 * listed in `dependsOnDmaEngine` and do not change its verdict — the engine, not the device,
 * masters the bus, and it stays with the host (see the README's Design section).
 *
 * `EINVAL` for malformed facts or options.
 */
export function assessDmaCapability(facts: DmaFacts, options?: DmaPolicyOptions): DmaCapabilityVerdict {
  return assessCompiled(facts, compileDmaPolicyOptions(options));
}

/** {@link assessDmaCapability} with options already compiled (a policy object reuses them). */
export function assessCompiled(facts: DmaFacts, options: CompiledDmaPolicyOptions): DmaCapabilityVerdict {
  checkDmaFacts(facts);
  const engines = unique((facts.dmas ?? []).map((channel) => channel.provider)).filter(
    (provider) => provider !== facts.path,
  );
  const hard = hardEvidence(facts);
  const chosen = overrideOf(facts, options);
  const noDma = facts.noDma !== undefined && facts.noDma !== false;
  const dtProperty = options.dtProperty && noDma;
  const masterClass = masterClassOf(facts.compatible);
  const nonMasterHit = nonMasterClassOf(facts);
  const nonMasterClass =
    options.builtinNonMasterClasses && nonMasterHit !== undefined && !nonMasterHit.periphidMismatch
      ? nonMasterHit.entry
      : undefined;

  const dtRef: DmaRuleRef | undefined = dtProperty
    ? { rule: 'dt-property', source: SOURCE.dtProperty }
    : undefined;
  const masterRef = masterClass === undefined ? undefined : classRef('master-class', masterClass);
  const nonMasterRef =
    nonMasterClass === undefined ? undefined : classRef('non-master-class', nonMasterClass);
  const present = (...refs: (DmaRuleRef | undefined)[]): DmaRuleRef[] =>
    refs.filter((ref): ref is DmaRuleRef => ref !== undefined);

  const verdict = (
    capability: DmaCapability,
    ref: DmaRuleRef,
    reason: string,
    overruled: DmaRuleRef[],
  ): DmaCapabilityVerdict => {
    let text = reason;
    if (overruled.length > 0) text += `; overrules ${overruled.map(nameOf).join(', ')}`;
    if (capability === 'non-master' && engines.length > 0)
      text += '; its DMA engine stays with the host (PIO only)';
    return {
      verdict: capability,
      cannotDma: capability === 'non-master',
      reason: oneLine(text),
      rule: ref.rule,
      ...(ref.entry === undefined ? {} : { entry: ref.entry }),
      source: ref.source,
      dependsOnDmaEngine: engines,
      overruled,
    };
  };

  // 1. Hard evidence: every explicit non-master claim that also applied is overruled.
  const strongest = hard[0];
  if (strongest !== undefined) {
    const explicitNonMaster = present(
      chosen?.override.verdict === 'non-master' ? chosen.ref : undefined,
      dtRef,
      nonMasterRef,
    );
    return verdict('master', strongest.ref, strongest.reason, explicitNonMaster);
  }
  // 2. User override.
  if (chosen !== undefined) {
    const { override, kind, ref } = chosen;
    const stated =
      override.reason ??
      (override.verdict === 'master' ? 'declared a bus master' : 'declared unable to do DMA');
    const overruled = override.verdict === 'master' ? present(dtRef, nonMasterRef) : present(masterRef);
    return verdict(override.verdict, ref, `user override by ${kind}: ${stated}`, overruled);
  }
  // 3. vfiokit,no-dma.
  if (dtRef !== undefined) {
    const stated = typeof facts.noDma === 'string' && facts.noDma.trim() !== '' ? `: ${facts.noDma}` : '';
    return verdict(
      'non-master',
      dtRef,
      `${VFIOKIT_NO_DMA_PROPERTY} in the device tree${stated}`,
      present(masterRef),
    );
  }
  // 4. and 5. The class tables: a bus-master class wins over a non-master one.
  if (masterClass !== undefined)
    return verdict(
      'master',
      classRef('master-class', masterClass),
      `${masterClass.label}: ${masterClass.reason}`,
      present(nonMasterRef),
    );
  if (nonMasterClass !== undefined)
    return verdict(
      'non-master',
      classRef('non-master-class', nonMasterClass),
      `${nonMasterClass.label}: ${nonMasterClass.reason}`,
      [],
    );
  // 6. Unknown, saying what would have decided.
  return verdict(
    'unknown',
    { rule: 'no-rule', source: SOURCE.noRule },
    unknownReason(facts, options, engines),
    [],
  );
}

function unknownReason(
  facts: DmaFacts,
  options: CompiledDmaPolicyOptions,
  engines: readonly string[],
): string {
  const hit = nonMasterClassOf(facts);
  if (hit?.periphidMismatch === true && options.builtinNonMasterClasses)
    return `periphid 0x${(facts.periphid ?? 0).toString(16).padStart(8, '0')} is not ARM's ${hit.entry.label}: no rule applies`;
  if (hit !== undefined && !options.builtinNonMasterClasses)
    return `no rule proves it cannot do DMA (class table off; ${hit.entry.label})`;
  if (facts.noDma !== undefined && facts.noDma !== false && !options.dtProperty)
    return `no rule proves it cannot do DMA (${VFIOKIT_NO_DMA_PROPERTY} ignored: dtProperty off)`;
  if (engines.length > 0) return 'no rule proves it cannot do DMA; uses DMA engines it does not own';
  return 'no rule proves it cannot do DMA (no override, no vfiokit,no-dma, no class entry)';
}
