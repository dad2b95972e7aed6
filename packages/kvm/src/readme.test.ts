import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs every ```ts block of the README as written (imports through the package names); a
// block's node:assert checks throw when the example stops being true.
const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

describe('README examples', () => {
  it('has the usage examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs`, async () => {
      const file = join(here, `readme-example-${i}-${process.pid}.tmp.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      try {
        await import(file);
      } finally {
        rmSync(file, { force: true });
      }
    });
  });
});
