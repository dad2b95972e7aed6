// The vitest configuration Stryker runs: the root config's aliases and fast-check setup,
// with one project only, the package under mutation (VFIOKIT_MUTATE_PACKAGE).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const name = process.env.VFIOKIT_MUTATE_PACKAGE;
if (name === undefined) throw new TypeError('stryker/vitest.config.mjs: VFIOKIT_MUTATE_PACKAGE is not set');
// Test files to leave out of a mutation run (comma-separated globs under the package), e.g.
// the devicetree fuzzers, which cover every line, kill little and cost seconds per mutant.
const exclude = (process.env.VFIOKIT_MUTATE_EXCLUDE_TESTS ?? '').split(',').filter((glob) => glob !== '');

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@vfiokit\/([a-z0-9-]+)\/testing$/, replacement: `${root}packages/$1/src/testing/index.ts` },
      { find: /^@vfiokit\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
    ],
  },
  test: {
    name,
    root: `${root}packages/${name}`,
    include: ['src/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...exclude],
    setupFiles: [`${root}test/setup/fast-check.ts`],
    passWithNoTests: false,
    // Instrumented code on a shared 2-core machine: property tests need more than 5 s.
    testTimeout: 60_000,
  },
});
