/**
 * One entry of a built-in class table: a family of devices recognised by compatible, with
 * why it is (or is not) a bus master and where that claim can be checked.
 */
export interface DmaClassEntry {
  /** Stable id (the entry's main compatible), printed as the verdict's `entry`. */
  readonly id: string;
  /**
   * Compatibles it covers. The master table may use `*` globs (a family such as `*-ehci`);
   * the non-master table lists exact strings only, because a false `non-master` hands an
   * unisolated bus master to a guest.
   */
  readonly compatibles: readonly string[];
  /** Short name of the class (`PL011 UART`). */
  readonly label: string;
  /** Why, in a few words: printed after the label in the verdict's one-line reason. */
  readonly reason: string;
  /** Where the claim comes from: the TRM / specification and the kernel driver file. */
  readonly source: string;
  /**
   * PrimeCells only: the ARM part number (`arm,primecell-periphid` bits 11:0, designer 0x41 in
   * bits 19:12). When the node carries a periphid naming another part or designer (a vendor
   * variant behind an ARM compatible), a non-master entry does not apply.
   */
  readonly primecellPart?: number;
  /**
   * Non-master table only: the entry also applies when one of its compatibles is a node's
   * FALLBACK (`"rockchip,rk3568-i2c", "rockchip,rk3399-i2c"`). Set only for register-only
   * blocks whose Linux driver binds the whole family through that compatible and drives every
   * variant alike; other entries match the most specific compatible alone.
   */
  readonly matchFallback?: boolean;
}

/** A compiled matcher for a table's compatibles. */
export function compatibleMatcher(patterns: readonly string[]): (compatible: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.includes('*')));
  const globs = patterns
    .filter((pattern) => pattern.includes('*'))
    .map((pattern) => new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`));
  return (compatible) => exact.has(compatible) || globs.some((glob) => glob.test(compatible));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
