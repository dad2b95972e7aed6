import { isFdtError } from '@vfiokit/devicetree';
import { EXIT_INTERNAL, EXIT_USAGE } from './exit-status.js';

/**
 * A command's input could not be used: one line for stderr (without the program name) and
 * the exit status. Thrown by commands, printed by runProgram.
 */
export class InputError extends Error {
  readonly status: number;

  constructor(line: string, status: number, cause?: unknown) {
    super(line, cause === undefined ? undefined : { cause });
    this.name = 'InputError';
    this.status = status;
  }
}

function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** One line, whatever the message holds: a file name or message with newlines stays one line. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/**
 * The InputError for `error` met while reading or decoding `file`: the errno name for a file
 * that cannot be read (ENOENT, EACCES, EISDIR, …), the FdtError code (`FDT_ERR_BADMAGIC …`)
 * for a blob that is not a device tree; anything else is an internal error (status 1).
 */
export function inputError(file: string, error: unknown): InputError {
  if (isFdtError(error)) return new InputError(oneLine(`${file}: ${error.message}`), EXIT_USAGE, error);
  const errno = errnoOf(error);
  if (errno !== undefined) {
    // Node's text is "ENOENT: no such file or directory, open 'x'": keep the strerror part.
    const text = error instanceof Error ? /^E[A-Z0-9]+: ([^,]+)/.exec(error.message)?.[1] : undefined;
    const detail = text === undefined ? '' : ` (${text})`;
    return new InputError(oneLine(`${file}: ${errno}${detail}`), EXIT_USAGE, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new InputError(oneLine(`${file}: internal error, please report: ${message}`), EXIT_INTERNAL, error);
}
