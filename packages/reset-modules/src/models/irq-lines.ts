/**
 * Where a device model drives its interrupt outputs: an interrupt controller's inputs, or a
 * test's recorder. `setLevel` is called when a line changes (and once per line on connect);
 * an edge or message interrupt (an MSI) is a rise followed by a fall.
 */
export interface IrqSink {
  setLevel(line: string, asserted: boolean): void;
}

/**
 * A model's interrupt outputs: `sample` computes every line's level from the model's
 * registers; `update` (called by the model after anything that may change them — a register
 * access, time, an external event) tells the sink about lines that changed.
 */
export class IrqLines {
  private sink: IrqSink | null = null;
  private readonly levels = new Map<string, boolean>();
  // The fingerprint the levels were last sampled at; NaN (never equal) forces a sample.
  private sampledAt = Number.NaN;

  /**
   * `fingerprint`, when given, is a number that changes whenever any line's level may change
   * (for example the bits the levels are computed from): `update` runs after every register
   * access, and comparing one number there instead of sampling every line keeps a polling
   * loop allocation-free.
   */
  constructor(
    private readonly sample: () => Iterable<readonly [string, boolean]>,
    private readonly fingerprint?: () => number,
  ) {}

  /** Connects the sink and reports every line's current level. */
  connect(sink: IrqSink): void {
    this.sink = sink;
    this.levels.clear();
    this.sampledAt = Number.NaN;
    this.update();
  }

  update(): void {
    const sink = this.sink;
    if (sink === null) return;
    if (this.fingerprint !== undefined) {
      const now = this.fingerprint();
      if (now === this.sampledAt) return;
      this.sampledAt = now;
    }
    for (const [line, level] of this.sample()) {
      if (this.levels.get(line) === level) continue;
      this.levels.set(line, level);
      sink.setLevel(line, level);
    }
  }

  /** An edge (an MSI write, a pulse): the line rises and falls. */
  pulse(line: string): void {
    this.sink?.setLevel(line, true);
    this.sink?.setLevel(line, false);
  }
}
