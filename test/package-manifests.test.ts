import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What ships: every workspace package publishes ESM + CJS + types from dist/, typed entry
// points first in each condition, no side effects, and one explicit public face.
const root = fileURLToPath(new URL('..', import.meta.url));
const names = readdirSync(`${root}packages`).filter((name) =>
  existsSync(`${root}packages/${name}/package.json`),
);

interface Manifest {
  name: string;
  type: string;
  sideEffects: boolean;
  files: string[];
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
}

const manifest = (name: string): Manifest =>
  JSON.parse(readFileSync(`${root}packages/${name}/package.json`, 'utf8')) as Manifest;

// ARCHITECTURE.md's dependency column.
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  devicetree: ['core'],
  'platform-bus': ['core'],
  'reset-modules': ['core'],
  smmu: ['core', 'devicetree', 'platform-bus'],
  'emulated-iommu': ['core', 'platform-bus', 'vfio'],
  vfio: ['core', 'platform-bus', 'reset-modules'],
  kvm: ['core'],
  iommufd: ['core'],
  host: [
    'core',
    'devicetree',
    'platform-bus',
    'reset-modules',
    'smmu',
    'emulated-iommu',
    'vfio',
    'kvm',
    'iommufd',
  ],
  vmm: ['core', 'devicetree', 'host', 'kvm', 'vfio'],
  cli: ['core', 'vmm', 'host', 'devicetree'],
  examples: names.filter((name) => name !== 'cli' && name !== 'examples'),
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe.each(names)('@vfiokit/%s', (name) => {
  const pkg = manifest(name);

  it('is an ESM package without side effects that ships dist/ only', () => {
    expect(pkg.name).toBe(`@vfiokit/${name}`);
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.files).toEqual(['dist']);
  });

  it('exports every entry as import + require, each with its types first', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      const entry = subpath === '.' ? 'index' : `${subpath.slice(2)}/index`;
      expect(existsSync(`${root}packages/${name}/src/${entry}.ts`)).toBe(true);
      expect(target).toEqual({
        import: { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` },
        require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
      });
      const conditions = target as Record<string, Record<string, string>>;
      expect(Object.keys(conditions.import ?? {})[0]).toBe('types');
      expect(Object.keys(conditions.require ?? {})[0]).toBe('types');
    }
  });

  it('imports only the siblings the architecture allows, and declares them', () => {
    const declared = Object.keys(pkg.dependencies ?? {})
      .filter((dep) => dep.startsWith('@vfiokit/'))
      .map((dep) => dep.slice('@vfiokit/'.length));
    const used = new Set<string>();
    for (const file of sourceFiles(`${root}packages/${name}/src`)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/from '@vfiokit\/([a-z0-9-]+)/g))
        used.add(match[1] ?? '');
    }
    used.delete(name);
    for (const sibling of used) {
      expect(ALLOWED[name], `${name} imports ${sibling}`).toContain(sibling);
      expect(declared, `${name} uses ${sibling} without declaring it`).toContain(sibling);
    }
  });

  it('publishes only the known subpaths: ".", "./testing", "./uapi" (vfio only) and "./package.json"', () => {
    const allowed = ['.', './testing', './package.json', ...(name === 'vfio' ? ['./uapi'] : [])];
    for (const subpath of Object.keys(pkg.exports))
      expect(allowed, `${name} exports ${subpath}`).toContain(subpath);
    if (name === 'vfio') expect(Object.keys(pkg.exports)).toContain('./uapi');
  });

  it('has an explicit public face: no `export *` in src/index.ts', () => {
    const index = readFileSync(`${root}packages/${name}/src/index.ts`, 'utf8');
    expect(index).not.toMatch(/export \* from/);
  });

  it('has a README', () => {
    expect(existsSync(`${root}packages/${name}/README.md`)).toBe(true);
  });
});
