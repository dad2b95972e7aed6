import { KernelError, rejectUnknownOptions } from '@vfiokit/core';

/**
 * A user override: the user states what a device is, by kernel device name, node path or
 * compatible (exactly one). A `non-master` override never overrules hard evidence of
 * mastering (`iommus`, `iommu-map`, `#dma-cells`, `dma-coherent`); a `master` override always
 * applies, since it only makes the verdict more cautious.
 */
export interface DmaOverride {
  /** Kernel device name (`9000000.pl011`). */
  readonly device?: string;
  /** Full node path (`/pl011@9000000`). */
  readonly path?: string;
  /** A compatible string; matches a node that lists it anywhere in its `compatible`. */
  readonly compatible?: string;
  readonly verdict: 'master' | 'non-master';
  /** Why (one line); printed in the verdict's reason. */
  readonly reason?: string;
}

/** Options of the DMA-capability policy; unknown keys are `EINVAL`. */
export interface DmaPolicyOptions {
  /** User overrides; the most specific match wins (path, then device name, then compatible). */
  readonly overrides?: readonly DmaOverride[];
  /** Honour vfiokit's `vfiokit,no-dma` device-tree property (default `true`). */
  readonly dtProperty?: boolean;
  /** Use the built-in table of non-master peripheral classes (default `true`). */
  readonly builtinNonMasterClasses?: boolean;
}

/** The option keys, in the order the documentation lists them. */
export const DMA_POLICY_OPTION_KEYS: readonly (keyof DmaPolicyOptions & string)[] = [
  'overrides',
  'dtProperty',
  'builtinNonMasterClasses',
];

const OVERRIDE_KEYS: readonly (keyof DmaOverride & string)[] = [
  'device',
  'path',
  'compatible',
  'verdict',
  'reason',
];

/** How an override names its device. */
export type DmaOverrideKind = 'path' | 'device' | 'compatible';

/** Options after checking, with overrides indexed by key. */
export interface CompiledDmaPolicyOptions {
  readonly dtProperty: boolean;
  readonly builtinNonMasterClasses: boolean;
  readonly overrides: ReadonlyMap<string, DmaOverride>;
}

const WHERE = 'DmaPolicyOptions';

function bad(message: string): never {
  throw new KernelError('EINVAL', `${WHERE}: ${message}`);
}

/** The map key of an override: `path:/x`, `device:x` or `compatible:x`. */
export function overrideKey(kind: DmaOverrideKind, value: string): string {
  return `${kind}:${value}`;
}

function checkOverride(override: DmaOverride, index: number): string {
  const where = `${WHERE}.overrides[${index}]`;
  if (typeof override !== 'object' || override === null || Array.isArray(override))
    bad(`overrides[${index}] must be an object`);
  rejectUnknownOptions(override, OVERRIDE_KEYS, where);
  const named = (['path', 'device', 'compatible'] as const).filter((kind) => override[kind] !== undefined);
  if (named.length !== 1)
    bad(`overrides[${index}] must name exactly one of path, device, compatible (got ${named.length})`);
  const kind = named[0] as DmaOverrideKind;
  const value = override[kind];
  if (typeof value !== 'string' || value === '')
    bad(`overrides[${index}].${kind} must be a non-empty string`);
  if (override.verdict !== 'master' && override.verdict !== 'non-master')
    bad(`overrides[${index}].verdict must be 'master' or 'non-master'`);
  if (
    override.reason !== undefined &&
    (typeof override.reason !== 'string' || /[\r\n]/.test(override.reason))
  )
    bad(`overrides[${index}].reason must be a one-line string`);
  return overrideKey(kind, value);
}

/**
 * Checks options (`EINVAL` for unknown keys, wrong types, an override naming zero or two
 * devices, or two overrides of one device with different verdicts) and indexes them.
 */
export function compileDmaPolicyOptions(options: DmaPolicyOptions = {}): CompiledDmaPolicyOptions {
  rejectUnknownOptions(options, DMA_POLICY_OPTION_KEYS, WHERE);
  for (const key of ['dtProperty', 'builtinNonMasterClasses'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') bad(`'${key}' must be a boolean`);
  }
  if (options.overrides !== undefined && !Array.isArray(options.overrides))
    bad(`'overrides' must be an array`);
  const overrides = new Map<string, DmaOverride>();
  (options.overrides ?? []).forEach((override, index) => {
    const key = checkOverride(override, index);
    const earlier = overrides.get(key);
    if (earlier !== undefined && earlier.verdict !== override.verdict)
      bad(`overrides[${index}] contradicts an earlier override of ${key}`);
    if (earlier === undefined) overrides.set(key, override);
  });
  return {
    dtProperty: options.dtProperty ?? true,
    builtinNonMasterClasses: options.builtinNonMasterClasses ?? true,
    overrides,
  };
}
