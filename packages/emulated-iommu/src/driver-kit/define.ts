import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { MAX_REASON_LENGTH } from '../policy/verdict.js';
import type { EmulatedDriverSpec } from './types.js';

const SPEC_KEYS = ['name', 'bus', 'ofMatchTable', 'regions', 'irqs', 'noDma'] as const;

/**
 * Checks and freezes an emulated driver's declaration: unknown keys, an empty name or match
 * table, a region of no size, and a missing or multi-line no-DMA reason are `EINVAL` — the
 * reason is the driver's claim that makes skipping the IOMMU safe, so it must be there.
 */
export function defineEmulatedDriver(spec: EmulatedDriverSpec): EmulatedDriverSpec {
  rejectUnknownOptions(spec, SPEC_KEYS, 'defineEmulatedDriver');
  const fail = (what: string): never => {
    throw new KernelError('EINVAL', `defineEmulatedDriver(${String(spec.name)}): ${what}`);
  };
  if (typeof spec.name !== 'string' || spec.name.length === 0 || /[\s/]/.test(spec.name))
    fail('name must be a non-empty driver name without spaces or slashes');
  if (spec.bus !== 'platform' && spec.bus !== 'amba') fail(`bus must be 'platform' or 'amba'`);
  if (!Array.isArray(spec.ofMatchTable) || spec.ofMatchTable.length === 0)
    fail('of_match_table must list at least one compatible');
  if (spec.ofMatchTable.some((c) => typeof c !== 'string' || c.length === 0))
    fail('of_match_table entries must be non-empty strings');
  if (!Array.isArray(spec.regions) || !Array.isArray(spec.irqs)) fail('regions and irqs must be arrays');
  for (const region of spec.regions) {
    rejectUnknownOptions(region, ['name', 'size', 'readOnly'], `defineEmulatedDriver(${spec.name}).regions`);
    if (!Number.isSafeInteger(region.size) || region.size <= 0) fail(`region ${region.name} has no size`);
  }
  for (const irq of spec.irqs) rejectUnknownOptions(irq, ['name'], `defineEmulatedDriver(${spec.name}).irqs`);
  if (spec.noDma === undefined) fail('noDma (why the device cannot do DMA) is required');
  rejectUnknownOptions(spec.noDma, ['reason', 'source'], `defineEmulatedDriver(${spec.name}).noDma`);
  const { reason, source } = spec.noDma;
  if (typeof reason !== 'string' || reason.trim().length === 0 || /\n/.test(reason))
    fail('noDma.reason must be one line');
  if (reason.length > MAX_REASON_LENGTH) fail(`noDma.reason is longer than ${MAX_REASON_LENGTH}`);
  if (typeof source !== 'string' || source.trim().length === 0)
    fail('noDma.source must name where the claim comes from');
  return Object.freeze({
    name: spec.name,
    bus: spec.bus,
    ofMatchTable: Object.freeze([...spec.ofMatchTable]),
    regions: Object.freeze(spec.regions.map((r) => Object.freeze({ ...r }))),
    irqs: Object.freeze(spec.irqs.map((i) => Object.freeze({ ...i }))),
    noDma: Object.freeze({ reason, source }),
  });
}
