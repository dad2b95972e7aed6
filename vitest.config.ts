import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { SummaryReporter } from './test/setup/summary-reporter.js';

// Tests run from sources: every @vfiokit/* import (and its ./testing subpath) resolves to
// the package's src/, so no build is needed before `npm test`.
const root = fileURLToPath(new URL('.', import.meta.url));
const packages = readdirSync(`${root}packages`).filter((name) =>
  existsSync(`${root}packages/${name}/package.json`),
);

const config: ViteUserConfig = defineConfig({
  resolve: {
    alias: [
      {
        find: /^@vfiokit\/([a-z0-9-]+)\/testing$/,
        replacement: `${root}packages/$1/src/testing/index.ts`,
      },
      {
        find: /^@vfiokit\/([a-z0-9-]+)\/uapi$/,
        replacement: `${root}packages/$1/src/uapi/index.ts`,
      },
      { find: /^@vfiokit\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
    ],
  },
  test: {
    setupFiles: [`${root}test/setup/fast-check.ts`],
    reporters: ['default', new SummaryReporter()],
    passWithNoTests: false,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `${root}packages/${name}`, include: ['src/**/*.test.ts'] },
      })),
      {
        extends: true as const,
        test: { name: 'integration', root: `${root}test`, include: ['**/*.test.ts'] },
      },
    ],
  },
});

export default config;
