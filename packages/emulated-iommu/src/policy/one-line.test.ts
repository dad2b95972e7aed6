import { describe, expect, it } from 'vitest';
import { oneLine } from './one-line.js';
import { MAX_REASON_LENGTH } from './verdict.js';

describe('oneLine: a reason as the CLI prints it', () => {
  it('folds whitespace runs (newlines, tabs) into one space and trims the ends', () => {
    expect(oneLine('  a\n\n b\t\tc  ')).toBe('a b c');
  });

  it('keeps a text of exactly the limit, clips a longer one to the limit with …', () => {
    const exact = 'x'.repeat(MAX_REASON_LENGTH);
    expect(oneLine(exact)).toBe(exact);
    const clipped = oneLine(`${exact}y`);
    expect(clipped).toHaveLength(MAX_REASON_LENGTH);
    expect(clipped).toBe(`${'x'.repeat(MAX_REASON_LENGTH - 1)}…`);
  });
});
