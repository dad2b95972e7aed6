import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { addAnalyzeCommand } from './commands/analyze.js';
import { addAssignCommands } from './commands/assign.js';
import { addDtsCommand } from './commands/dts.js';
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { InputError, oneLine } from './input-error.js';
import { checkIo, type ProgramIo } from './io.js';
import { startProgress } from './progress.js';
import { VERSION } from './version.js';

const PROGRESS_AFTER_MS = 1000;

/** The bytes of `path`; `-` is standard input, as dtc reads it (`cat board.dtb | vfiokit dts -`). */
async function readFileBytes(path: string): Promise<Uint8Array> {
  const buffer = path === '-' ? await readStdin() : await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** The flags of every option `command --help` would list, help and version included. */
function validOptions(command: Command): string {
  return command
    .createHelp()
    .visibleOptions(command)
    .map((option) => option.flags)
    .join('; ');
}

/**
 * Output of `command` to the injected writers; an unknown option also lists the valid ones
 * (commander itself only guesses one with "Did you mean").
 */
function routeOutput(command: Command, io: ProgramIo): void {
  command.configureOutput({
    writeOut: (text) => io.stdout(text),
    writeErr: (text) => io.stderr(text),
    outputError: (text, write) => {
      const unknown = /^error: unknown option/.test(text);
      write(unknown ? `${text.trimEnd()}\nvalid options: ${validOptions(command)}\n` : text);
    },
    getOutHelpWidth: () => 80,
    getErrHelpWidth: () => 80,
  });
  // Commander throws instead of calling process.exit: runProgram turns it into a status.
  command.exitOverride();
}

/**
 * The `vfiokit` program: a commander Command whose output goes to `io` and which throws
 * (CommanderError, InputError) instead of exiting. Run it with {@link runProgram}, or call
 * `parseAsync(argv, { from: 'user' })` and handle the errors yourself.
 */
export function createProgram(io: ProgramIo): Command {
  checkIo(io, 'createProgram');
  const program = new Command('vfiokit')
    .description('An executable model of Linux VFIO platform-device assignment.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpCommand(false)
    .showSuggestionAfterError(true);
  routeOutput(program, io);
  const now = io.now ?? (() => performance.now());
  const progress = () =>
    startProgress({
      write: (line) => io.stderr(line),
      afterMs: io.progressAfterMs ?? PROGRESS_AFTER_MS,
      now,
    });
  const analyze = addAnalyzeCommand(program, {
    readFile: io.readFile ?? readFileBytes,
    stdout: (chunk) => io.stdout(chunk),
    progress,
    isTTY: io.isTTY ?? false,
    env: io.env ?? {},
  });
  const dts = addDtsCommand(program, {
    readFile: io.readFile ?? readFileBytes,
    stdout: (chunk) => io.stdout(chunk),
    progress,
  });
  const assign = addAssignCommands(program, {
    readFile: io.readFile ?? readFileBytes,
    stdout: (chunk) => io.stdout(chunk),
    progress,
  });
  for (const command of [analyze, dts, ...assign]) {
    command.version(VERSION, '-V, --version', 'print the version');
    routeOutput(command, io);
  }
  return program;
}

/**
 * Runs `vfiokit` with `argv` (the arguments after the program name) and resolves to the exit
 * status, which it also hands to `io.exit`: 0 on success and for --help/--version, 2 for bad
 * input or usage (one line on stderr for bad input), 1 for an internal error.
 */
export async function runProgram(argv: readonly string[], io: ProgramIo): Promise<number> {
  const program = createProgram(io);
  let status = EXIT_OK;
  try {
    // A program with commands and no arguments prints its help to stderr (status 2 below).
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) status = error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    else if (error instanceof InputError) {
      io.stderr(`vfiokit: ${error.message}\n`);
      status = error.status;
    } else {
      const message = error instanceof Error ? error.message : String(error);
      io.stderr(`vfiokit: internal error, please report: ${oneLine(message)}\n`);
      status = EXIT_INTERNAL;
    }
  }
  io.exit?.(status);
  return status;
}
