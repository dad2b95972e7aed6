// @ts-check
// StrykerJS configuration for one package at a time; run it through `npm run mutate -- <name>`
// (stryker/mutate.mjs), which sets VFIOKIT_MUTATE_PACKAGE.
const name = process.env.VFIOKIT_MUTATE_PACKAGE;
if (name === undefined || !/^[a-z0-9-]+$/.test(name)) {
  throw new TypeError('stryker.config.mjs: run it with `npm run mutate -- <package>`');
}
const src = `packages/${name}/src`;
// Results go under coverage/ (git-ignored), one directory per package.
const out = `coverage/mutation/${name}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'stryker/vitest.config.mjs', related: true },
  // The package's own code; tests, test helpers (src/testing is the ./testing export, a test
  // tool, and src/test-support) and the re-export barrel are not what the score is about.
  mutate: [
    `${src}/**/*.ts`,
    `!${src}/**/*.test.ts`,
    `!${src}/testing/**`,
    `!${src}/test-support/**`,
    `!${src}/index.ts`,
  ],
  coverageAnalysis: 'perTest',
  // The machine has two cores shared by several jobs.
  concurrency: 1,
  timeoutMS: 20000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${out}/index.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  incrementalFile: `${out}/incremental.json`,
  tempDirName: 'coverage/.stryker-tmp',
  cleanTempDir: true,
  // The sandbox needs the packages' sources (siblings resolve to src/), the vitest setup and
  // the root configs; nothing else.
  ignorePatterns: [
    '/*',
    '!/packages',
    '!/test',
    '!/stryker',
    '!/package.json',
    '!/tsconfig*.json',
    '**/dist',
  ],
  thresholds: { high: 90, low: 75, break: null },
};

export default config;
