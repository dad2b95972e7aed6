import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_SCENARIOS } from './run-all.js';

// The README shows each scenario's real printed output; these runs keep it true.
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The ```text block after "Output of `npx tsx packages/examples/src/<file>`:". */
function shownOutput(file: string): string | undefined {
  const marker = `Output of \`npx tsx packages/examples/src/${file}\`:\n\n\`\`\`text\n`;
  const start = README.indexOf(marker);
  if (start < 0) return undefined;
  const body = README.slice(start + marker.length);
  return body.slice(0, body.indexOf('\n```'));
}

const SCENARIOS = EXAMPLE_SCENARIOS.map((s) => [s.file, s.report] as const);

describe('README: each scenario’s output block is what the scenario prints', () => {
  it.each(SCENARIOS)('%s', async (file, run) => {
    expect(shownOutput(file)).toBe(await run());
  });

  it('every scenario file has a block (seven, in the issue’s order)', () => {
    expect(SCENARIOS.map(([file]) => file)).toEqual([
      'i2c-rebind.ts',
      'uart-emulated-iommu.ts',
      'pl330-smmu.ts',
      'xgmac-guest-node.ts',
      'level-irq-resamplefd.ts',
      'msi-viability.ts',
      'custom-reset-module.ts',
    ]);
  });

  it('a changed output is caught: the check compares the whole block', () => {
    expect(shownOutput('i2c-rebind.ts')).toBeDefined();
    expect(shownOutput('i2c-rebind.ts')).not.toBe('12ce0000.i2c at boot: s3c-i2c');
    expect(shownOutput('no-such-scenario.ts')).toBeUndefined();
  });
});
