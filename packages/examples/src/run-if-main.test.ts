import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { formatMsiViability, msiViabilityExample } from './msi-viability.js';
import { runIfMain } from './run-if-main.js';

describe('runIfMain: a scenario prints only when its file is the program', () => {
  it('imported (another file is the program): does not run', () => {
    const run = vi.fn(() => 'text');
    runIfMain('file:///somewhere/else.ts', run);
    expect(run).not.toHaveBeenCalled();
  });

  it('as the program: runs and prints the text', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const entry = process.argv[1] ?? '';
      runIfMain(pathToFileURL(entry).href, () => 'printed');
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(log).toHaveBeenCalledWith('printed');
    } finally {
      log.mockRestore();
    }
  });

  it('`npx tsx packages/examples/src/msi-viability.ts` prints the scenario’s outcome', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const stdout = execFileSync('npx', ['tsx', 'packages/examples/src/msi-viability.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(stdout).toBe(`${formatMsiViability(await msiViabilityExample())}\n`);
  }, 60_000);
});
