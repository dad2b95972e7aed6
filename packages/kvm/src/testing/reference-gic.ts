// A deliberately naive GIC CPU-interface reference for one vCPU, written from the GIC
// architecture (ARM IHI 0048 / 0069) rather than from the vGIC code: flat arrays, a full scan
// on every acknowledge. The property test drives it and the Vgic with the same operations and
// requires the same answers.

export class ReferenceGic {
  readonly n: number;
  readonly enabled: boolean[];
  readonly latch: boolean[];
  readonly line: boolean[];
  readonly active: boolean[];
  readonly level: boolean[];
  readonly prio: number[];
  pmr = 0;
  eoiMode: 0 | 1 = 0;
  readonly running: Array<[intid: number, prio: number]> = [];

  constructor(n: number) {
    this.n = n;
    const fill = <T>(v: T): T[] => Array.from({ length: n }, () => v);
    this.enabled = fill(false).map((_, i) => i < 16);
    this.latch = fill(false);
    this.line = fill(false);
    this.active = fill(false);
    this.level = fill(false).map((_, i) => i >= 16 && i < 32);
    this.prio = fill(0);
  }

  pending(i: number): boolean {
    return this.level[i] ? this.latch[i] === true || this.line[i] === true : this.latch[i] === true;
  }

  inject(i: number, high: boolean): void {
    if (this.level[i]) this.line[i] = high;
    else if (high) this.latch[i] = true;
  }

  ack(): number {
    let rpr = 256;
    for (const [, p] of this.running) if (p < rpr) rpr = p;
    let best = -1;
    for (let i = 0; i < this.n; i++) {
      const p = this.prio[i] ?? 0;
      if (!this.enabled[i] || this.active[i] || !this.pending(i)) continue;
      if (p >= this.pmr || p >= rpr) continue;
      if (best < 0 || p < (this.prio[best] ?? 0)) best = i;
    }
    if (best < 0) return 1023;
    this.active[best] = true;
    this.latch[best] = false;
    this.running.push([best, this.prio[best] ?? 0]);
    return best;
  }

  /** Returns false when the EOI is invalid (nothing of that INTID running). */
  eoi(i: number): boolean {
    const at = this.running.findIndex(([x]) => x === i);
    if (at < 0) return false;
    this.running.splice(at, 1);
    if (this.eoiMode === 0) this.active[i] = false;
    return true;
  }

  dir(i: number): boolean {
    if (this.eoiMode === 0 || !this.active[i]) return false;
    this.active[i] = false;
    return true;
  }
}
