// --- DMA-capability policy (issue #12 item 1): vfiokit's design, not in Linux ---
export { assessDmaCapability } from './policy/assess.js';
export type { DmaClassEntry } from './policy/class-entry.js';
export {
  checkDmaFacts,
  type DmaChannelFact,
  type DmaFacts,
  VFIOKIT_NO_DMA_PROPERTY,
} from './policy/facts.js';
export { MASTER_CLASSES } from './policy/master-classes.js';
export { NON_MASTER_CLASSES } from './policy/non-master-classes.js';
export { type DmaFactsLookup, type DmaPolicyDevice, OfDmaCapabilityPolicy } from './policy/of-policy.js';
export {
  DMA_POLICY_OPTION_KEYS,
  type DmaOverride,
  type DmaPolicyOptions,
} from './policy/options.js';
export {
  type DmaCapability,
  type DmaCapabilityVerdict,
  type DmaRuleId,
  type DmaRuleRef,
  HARD_MASTER_EVIDENCE,
  MAX_REASON_LENGTH,
} from './policy/verdict.js';
