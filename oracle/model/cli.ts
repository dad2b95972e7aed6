/**
 * `npx tsx oracle/model/cli.ts oracle/scenarios/<name>.scn [DTB_DIR]` prints the model's transcript, as
 * the C runner prints the kernel's (exit 2 on a scenario error).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { runScenario } from './runner.js';
import { ScenarioError } from './scenario.js';

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: cli.ts SCENARIO.scn [DTB_DIR]\n');
  process.exit(2);
}
try {
  const { transcript } = await runScenario(new Uint8Array(readFileSync(path)), {
    name: basename(path, '.scn'),
    ...(process.argv[3] === undefined ? {} : { dtbDir: process.argv[3] }),
  });
  process.stdout.write(transcript);
} catch (error) {
  if (error instanceof ScenarioError) {
    process.stdout.write(error.partialTranscript ?? '');
    process.stderr.write(`model runner: ${path}: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
