import { rejectUnknownOptions } from '@vfiokit/core';

/** Where the program writes: bytes go out as they are, text as UTF-8. */
export type Writer = (chunk: string | Uint8Array) => void;

/**
 * What the program touches outside itself, injected so that tests run it in-process.
 * `readFile` and `now` default to the real ones; `progressAfterMs` (default 1000) is how long
 * an input may take before a progress line goes to stderr.
 */
export interface ProgramIo {
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Called once with the exit status when the program ends (by {@link runProgram}). */
  readonly exit?: (status: number) => void;
  readonly readFile?: (path: string) => Promise<Uint8Array>;
  readonly now?: () => number;
  readonly progressAfterMs?: number;
  /** Whether standard output is a terminal (the table's colours in `--color auto`); default false. */
  readonly isTTY?: boolean;
  /** The environment the program reads (`NO_COLOR`); default empty. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export const IO_KEYS: readonly (keyof ProgramIo & string)[] = [
  'stdout',
  'stderr',
  'exit',
  'readFile',
  'now',
  'progressAfterMs',
  'isTTY',
  'env',
];

/** Rejects misspelt keys (KernelError EINVAL) so that a typo does not silently use a default. */
export function checkIo(io: ProgramIo, where: string): void {
  rejectUnknownOptions(io, IO_KEYS, where);
}
