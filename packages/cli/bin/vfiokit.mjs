#!/usr/bin/env node
// The `vfiokit` launcher, committed so that npm links it into node_modules/.bin on a fresh
// clone, where dist/ does not exist yet (npm links a workspace bin only if its target exists
// at install time). It runs the build (dist/bin.js) when there is one, as a published package
// always has; otherwise the TypeScript sources through tsx (the repository's devDependency),
// with the repository's tsconfig paths so that sibling @vfiokit/* packages resolve to their
// sources too. Run `npm run build` after changing sources, or remove dist/, to run the
// current code.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) });
  await import(new URL('../src/bin.ts', import.meta.url).href);
}
