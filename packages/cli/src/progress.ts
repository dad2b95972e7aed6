/**
 * The progress line: an input that takes more than `afterMs` gets one line on stderr, so a
 * slow read (a FIFO, /sys/firmware/fdt over a slow bus, a huge blob) does not look like a hang.
 * Work that waits (reading) is covered by a timer; synchronous work (decoding) cannot be
 * interrupted, so before it starts `before()` prints the line when the time already spent
 * plus the work's estimate passes the limit.
 */
export interface Progress {
  /** Names what is happening now; the timer's line names it. */
  phase(text: string): void;
  /** Before synchronous work expected to take `estimateMs`: prints the line if it will be slow. */
  before(text: string, estimateMs: number): void;
  /** Stops the timer; no line after this. */
  done(): void;
}

export interface ProgressOptions {
  readonly write: (line: string) => void;
  readonly afterMs: number;
  readonly now: () => number;
}

export function startProgress(options: ProgressOptions): Progress {
  const { write, afterMs, now } = options;
  const start = now();
  let current = 'working';
  let printed = false;
  let finished = false;
  const print = (text: string): void => {
    if (printed || finished) return;
    printed = true;
    write(`${text} (${((now() - start) / 1000).toFixed(1)} s so far)…\n`);
  };
  const timer = setTimeout(() => print(current), afterMs);
  // The timer must not keep the process alive after the work.
  timer.unref();
  return {
    phase(text) {
      current = text;
    },
    before(text, estimateMs) {
      current = text;
      if (now() - start + estimateMs > afterMs) print(text);
    },
    done() {
      finished = true;
      clearTimeout(timer);
    },
  };
}
