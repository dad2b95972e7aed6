// `npm run mutate -- <package> [stryker options]`: mutation testing of one package with
// StrykerJS (not run in CI; it takes minutes to hours on the 2-core machine). The package's
// sources are mutated and only that package's vitest project runs against each mutant.
// Extra arguments go to `stryker run`, e.g. `--mutate 'packages/devicetree/src/of-irq.ts'`
// to narrow the scope (several files: one comma-separated --mutate), or `--incremental` to
// reuse the last run's results for unchanged code. VFIOKIT_MUTATE_EXCLUDE_TESTS (comma-separated
// globs, e.g. 'src/**/*fuzz*.test.ts') leaves test files out of the run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name.startsWith('-')) {
  console.error('usage: npm run mutate -- <package> [stryker run options]');
  process.exit(2);
}
if (!existsSync(`${root}packages/${name}/src/index.ts`)) {
  console.error(`mutate: no package "${name}" with sources under packages/${name}/src`);
  process.exit(2);
}
const stryker = `${root}node_modules/.bin/stryker`;
const result = spawnSync(stryker, ['run', 'stryker/stryker.config.mjs', ...rest], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, VFIOKIT_MUTATE_PACKAGE: name },
});
process.exit(result.status ?? 1);
