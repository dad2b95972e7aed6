#!/usr/bin/env node
// The `vfiokit` launcher, committed so that npm links it into node_modules/.bin on a fresh
// clone, where dist/ does not exist yet (npm links a workspace bin only if its target exists
// at install time). It runs the build (dist/bin.js) when there is one, as a published package
// always has. In a repository without a build it runs the TypeScript sources: bundled once with
// esbuild (the repository's devDependency, through tsx) into node_modules/.cache/vfiokit-cli/
// and rebuilt when a source is newer than the bundle, so that a run takes about as long as the
// build's (a few hundred ms, not the seconds tsx needs to load every file); if bundling fails,
// through tsx directly. Run `npm run build` after changing sources in a tree that has a build,
// or remove dist/, to run the current code.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsconfig = join(root, 'tsconfig.json');

// The newest modification time of the sources a bundle is made of.
function newestSource() {
  let newest = statSync(tsconfig).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const name of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', name, 'src');
    if (existsSync(src)) walk(src);
    const manifest = join(root, 'packages', name, 'package.json');
    if (existsSync(manifest)) newest = Math.max(newest, statSync(manifest).mtimeMs);
  }
  return newest;
}

async function bundled() {
  const dir = join(root, 'node_modules', '.cache', 'vfiokit-cli');
  const bundle = join(dir, 'vfiokit.mjs');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource()) return bundle;
  const { build } = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  // Written beside and renamed, so a concurrent run never imports half a file.
  const partial = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [fileURLToPath(new URL('../src/bin.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: partial,
    tsconfig,
    // CommonJS dependencies (commander) call require() inside an ES module.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  renameSync(partial, bundle);
  return bundle;
}

if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  let entry;
  try {
    entry = pathToFileURL(await bundled()).href;
  } catch {
    entry = undefined;
  }
  if (entry !== undefined) await import(entry);
  else {
    const { register } = await import('tsx/esm/api');
    register({ tsconfig });
    await import(new URL('../src/bin.ts', import.meta.url).href);
  }
}
