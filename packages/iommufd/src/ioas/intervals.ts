/** An inclusive interval `[start, last]` of IOVA space, as the kernel's interval trees keep them. */
export interface Interval {
  readonly start: bigint;
  readonly last: bigint;
}

/** Whether `[a.start, a.last]` and `[start, last]` intersect (`interval_tree_iter_first`). */
export function intersects(a: Interval, start: bigint, last: bigint): boolean {
  return a.start <= last && start <= a.last;
}

/**
 * The holes of `used` within `[lo, hi]`, in order (`interval_tree_for_each_span` /
 * `_double_span` with `is_hole`): what no interval covers.
 */
export function holes(used: readonly Interval[], lo: bigint, hi: bigint): Interval[] {
  const sorted = used.filter((u) => intersects(u, lo, hi)).sort((a, b) => (a.start < b.start ? -1 : 1));
  const out: Interval[] = [];
  let cursor = lo;
  let done = false;
  for (const u of sorted) {
    if (u.start > cursor) out.push({ start: cursor, last: u.start - 1n });
    if (u.last >= hi) {
      done = true;
      break;
    }
    if (u.last + 1n > cursor) cursor = u.last + 1n;
  }
  if (!done && cursor <= hi) out.push({ start: cursor, last: hi });
  return out;
}

/** The used spans of `tree` within `[lo, hi]`, merged and clipped (`span.is_hole == false`). */
export function usedSpans(tree: readonly Interval[], lo: bigint, hi: bigint): Interval[] {
  const out: Interval[] = [];
  let prev: { start: bigint; last: bigint } | undefined;
  for (const u of [...tree].sort((a, b) => (a.start < b.start ? -1 : 1))) {
    if (!intersects(u, lo, hi)) continue;
    const start = u.start < lo ? lo : u.start;
    const last = u.last > hi ? hi : u.last;
    if (prev !== undefined && start <= prev.last + 1n) {
      if (last > prev.last) prev.last = last;
      continue;
    }
    prev = { start, last };
    out.push(prev);
  }
  return out;
}
