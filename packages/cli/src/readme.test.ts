// The README shows real output: the Juno r2 table and the demo SoC's mermaid picture are what
// the command prints today (regenerate them when the analysis changes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureBlobs } from './test-support/fixtures.js';
import { run } from './test-support/run.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const juno = fixtureBlobs().find((b) => b.name === 'dtb/juno-r2.dtb');

function blockAfter(marker: string, fence: string): string {
  const at = readme.indexOf(marker);
  expect(at, marker).toBeGreaterThan(0);
  const start = readme.indexOf(`\`\`\`${fence}\n`, at) + fence.length + 4;
  return readme.slice(start, readme.indexOf('```', start));
}

describe('README output', () => {
  it.skipIf(juno === undefined)('the Juno r2 table is the real one', async () => {
    const dtb = juno?.dtb ?? '';
    const table = (await run(['analyze', dtb])).stdout.toString('utf8');
    const shortened = table.replace(dtb, 'juno-r2.dtb');
    expect(blockAfter('The real table on the Juno r2 fixture', 'text')).toBe(shortened);
  });

  it.skipIf(juno === undefined)("the root README's Juno excerpt is lines of the real table", async () => {
    const root = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const at = root.indexOf('What it says about a real board');
    expect(at).toBeGreaterThan(0);
    const start = root.indexOf('```text\n', at) + 8;
    const excerpt = root
      .slice(start, root.indexOf('```', start))
      .split('\n')
      .filter((l) => l !== '');
    const lines = new Set((await run(['analyze', juno?.dtb ?? ''])).stdout.toString('utf8').split('\n'));
    expect(excerpt.length).toBeGreaterThan(5);
    for (const line of excerpt) expect(lines.has(line), line).toBe(true);
  });

  it("the demo SoC's picture is the real mermaid output", async () => {
    const mermaid = (await run(['analyze', '--format', 'mermaid'])).stdout.toString('utf8');
    expect(blockAfter('The picture of the demo SoC', 'mermaid')).toBe(mermaid);
  });
});
