import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

// One build definition for every workspace package: ESM + CJS + .d.ts from src/index.ts,
// plus the ./testing and ./uapi subpaths and a CLI entry where a package has them.
const packagesDir = 'packages';

interface PackageJson {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

function entriesOf(dir: string): Record<string, string> {
  const entry: Record<string, string> = { index: join(dir, 'src/index.ts') };
  const testing = join(dir, 'src/testing/index.ts');
  if (existsSync(testing)) entry['testing/index'] = testing;
  // A UAPI transcription without the model behind it (@vfiokit/vfio/uapi).
  const uapi = join(dir, 'src/uapi/index.ts');
  if (existsSync(uapi)) entry['uapi/index'] = uapi;
  const bin = join(dir, 'src/bin.ts');
  if (existsSync(bin)) entry.bin = bin;
  return entry;
}

function packageOptions(name: string): Options {
  const dir = join(packagesDir, name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  return {
    name,
    entry: entriesOf(dir),
    outDir: join(dir, 'dist'),
    format: ['esm', 'cjs'],
    dts: true,
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    target: 'node20',
    platform: 'node',
    // import.meta.url in the CJS build (the examples and the CLI find files next to their
    // module): tsup's shim gives it the file URL of the CommonJS module.
    shims: true,
    external: [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})],
  };
}

const config: Options[] = readdirSync(packagesDir)
  .filter((name) => existsSync(join(packagesDir, name, 'package.json')))
  .map(packageOptions);

const defined: ReturnType<typeof defineConfig> = defineConfig(config);

export default defined;
