// The vitest configuration Stryker runs: the root config's aliases and fast-check setup,
// with one project only, the package under mutation (VFIOKIT_MUTATE_PACKAGE).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const name = process.env.VFIOKIT_MUTATE_PACKAGE;
if (name === undefined) throw new TypeError('stryker/vitest.config.mjs: VFIOKIT_MUTATE_PACKAGE is not set');

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
    setupFiles: [`${root}test/setup/fast-check.ts`],
    passWithNoTests: false,
  },
});
