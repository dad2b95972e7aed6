/**
 * "Which is the first interval, in list order, that contains this point?" in O(log n) per
 * query after an O(n log n) build. The kernel answers it with a linear scan (of_translate_one
 * walking `ranges`), which is fine for real trees but quadratic when a hostile blob pairs a
 * huge `ranges` with many children; this index gives the same answer without the blow-up.
 */

/** A half-open interval `[lo, hi)` with its position in the original list. */
export interface IndexedInterval {
  readonly index: number;
  readonly lo: bigint;
  readonly hi: bigint;
}

/** An immutable stabbing index answering with the lowest-index interval containing a point. */
export class FirstIntervalIndex {
  // Elementary segments [points[k], points[k + 1]) and the first interval covering each.
  readonly #points: bigint[];
  readonly #first: Int32Array;

  constructor(intervals: readonly IndexedInterval[]) {
    const valid = intervals.filter((iv) => iv.lo < iv.hi);
    const points = [...new Set(valid.flatMap((iv) => [iv.lo, iv.hi]))].sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    const first = new Int32Array(Math.max(0, points.length - 1)).fill(-1);
    // Sweep from left to right: intervals start at their lo point and are dropped lazily
    // from a min-heap (by list index) once the sweep passes their hi.
    const byLo = [...valid].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    const heap = new MinHeap();
    let next = 0;
    for (let k = 0; k + 1 < points.length; k++) {
      const start = points[k]!;
      while (next < byLo.length && byLo[next]!.lo <= start) heap.push(byLo[next++]!);
      while (heap.size > 0 && heap.peek()!.hi <= start) heap.pop();
      first[k] = heap.size > 0 ? heap.peek()!.index : -1;
    }
    this.#points = points;
    this.#first = first;
  }

  /** The list index of the first interval containing `point`, or -1. */
  find(point: bigint): number {
    const points = this.#points;
    let lo = 0;
    let hi = points.length - 1;
    // Largest k with points[k] <= point, among segment starts 0..length-2.
    let k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! <= point) {
        k = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (k < 0 || k >= points.length - 1) return -1;
    return this.#first[k]!;
  }
}

// A binary min-heap of intervals ordered by list index; entries whose hi has been passed
// are removed only when they reach the top (lazy deletion), which keeps the top correct:
// an expired entry deeper in the heap has a larger index than the live top.
class MinHeap {
  readonly #items: IndexedInterval[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): IndexedInterval | undefined {
    return this.#items[0];
  }

  push(item: IndexedInterval): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.index <= items[i]!.index) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop()!;
    if (items.length === 0) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && items[left]!.index < items[smallest]!.index) smallest = left;
      if (right < items.length && items[right]!.index < items[smallest]!.index) smallest = right;
      if (smallest === i) return;
      [items[smallest], items[i]] = [items[i]!, items[smallest]!];
      i = smallest;
    }
  }
}
