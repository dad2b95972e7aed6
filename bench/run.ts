// `npm run bench [filter]`: runs every bench/*.bench.ts (or those whose name contains
// the filter) one after another, each printing its own Markdown table.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  readonly default: () => Promise<void> | void;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts') && name.includes(filter))
  .sort();

for (const file of files) {
  console.log(`\n## ${file.replace(/\.bench\.ts$/, '')}\n`);
  const module = (await import(pathToFileURL(`${dir}${file}`).href)) as BenchModule;
  await module.default();
}
