import { MAX_REASON_LENGTH } from './verdict.js';

/**
 * A reason as the CLI prints it: one line (whitespace runs, newlines included, become one
 * space) of at most {@link MAX_REASON_LENGTH} characters, clipped with `…` when longer.
 */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_REASON_LENGTH ? flat : `${flat.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
