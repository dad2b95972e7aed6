// Test support: runs the program in-process and collects what it writes.
import type { ProgramIo } from '../io.js';
import { runProgram } from '../program.js';

export interface Run {
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly exits: readonly number[];
}

/** Runs `vfiokit argv` in-process; `io` overrides the injected parts (not the writers). */
export async function run(
  argv: readonly string[],
  io: Omit<ProgramIo, 'stdout' | 'stderr'> = {},
): Promise<Run> {
  const out: Buffer[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  const status = await runProgram(argv, {
    exit: (code) => exits.push(code),
    ...io,
    stdout: (chunk) => out.push(Buffer.from(chunk)),
    stderr: (chunk) => err.push(Buffer.from(chunk).toString('utf8')),
  });
  return { status, stdout: Buffer.concat(out), stderr: err.join(''), exits };
}
