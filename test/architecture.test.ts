// docs/ARCHITECTURE.md is the project's map; this test keeps it true. Its package table must
// list every package, its dependency column must be exactly each package.json's dependencies
// (peer dependencies marked "(peer)"), every @vfiokit import of a package's sources must be in
// that column, the column graph must have no cycle, and "planned" must mean "exports nothing".
// Separately, no README in the repository may link outside it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** One row of the package table. */
interface MapRow {
  readonly name: string;
  readonly status: 'built' | 'planned';
  readonly dependencies: readonly string[];
  readonly peers: readonly string[];
}

/** The package rows (`packages/<name>`) of the table under "## Packages". */
function parseMap(markdown: string): MapRow[] {
  const rows: MapRow[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`packages\/([a-z0-9-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined) continue;
    const status = cells[2];
    if (status !== 'built' && status !== 'planned') throw new TypeError(`${name}: status "${status}"`);
    // Commas inside parentheses ("fast-check (peer, optional)") do not separate entries.
    const tokens = (cells[4] ?? '')
      .replace(/\([^)]*\)/g, (group) => group.replaceAll(',', ';'))
      .split(',')
      .map((token) => token.replaceAll('`', '').trim())
      .filter((token) => token !== '' && token !== '—');
    const peers = tokens.filter((t) => t.includes('(peer')).map((t) => t.replace(/\s*\(peer.*$/, ''));
    const dependencies = tokens.filter((t) => !t.includes('(peer'));
    rows.push({ name, status, dependencies, peers });
  }
  return rows;
}

interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

const short = (dep: string): string => (dep.startsWith('@vfiokit/') ? dep.slice('@vfiokit/'.length) : dep);
const sorted = (values: Iterable<string>): string[] => [...values].sort();

/** What disagrees between a row, its package.json and its sources' sibling imports. */
function rowProblems(row: MapRow, manifest: Manifest, imports: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const declared = sorted(Object.keys(manifest.dependencies ?? {}).map(short));
  const peers = sorted(Object.keys(manifest.peerDependencies ?? {}).map(short));
  if (JSON.stringify(sorted(row.dependencies)) !== JSON.stringify(declared)) {
    problems.push(`${row.name}: map says [${sorted(row.dependencies)}], package.json [${declared}]`);
  }
  if (JSON.stringify(sorted(row.peers)) !== JSON.stringify(peers)) {
    problems.push(`${row.name}: map says peers [${sorted(row.peers)}], package.json [${peers}]`);
  }
  for (const sibling of imports) {
    if (!row.dependencies.includes(sibling)) problems.push(`${row.name} imports ${sibling}, not in the map`);
  }
  return problems;
}

/** A dependency cycle among the rows, as a path, or undefined. */
function findCycle(rows: readonly MapRow[]): string[] | undefined {
  const byName = new Map(rows.map((row) => [row.name, row]));
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    if (state.get(name) === 'done') return undefined;
    state.set(name, 'open');
    for (const dep of byName.get(name)?.dependencies ?? []) {
      if (!byName.has(dep)) continue;
      const cycle = visit(dep, [...path, name]);
      if (cycle !== undefined) return cycle;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const row of rows) {
    const cycle = visit(row.name, []);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

// Sources that ship: src/**/*.ts without tests and without src/test-support/.
function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test-support' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The sibling packages a source text imports (static, re-export and dynamic forms). */
function siblingImports(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]@vfiokit\/([a-z0-9-]+)/g)) {
    found.add(match[1] ?? '');
  }
  return found;
}

function importsOf(name: string): Set<string> {
  const used = new Set<string>();
  for (const file of sourceFiles(join(root, 'packages', name, 'src'))) {
    for (const sibling of siblingImports(readFileSync(file, 'utf8'))) used.add(sibling);
  }
  used.delete(name);
  return used;
}

// "exports nothing": no export statement other than `export {};`.
function exportsSomething(indexText: string): boolean {
  return /^export\s+(?!\{\s*\};)/m.test(indexText);
}

/** Markdown links of a README that point outside the repository (or nowhere). */
function readmeLinkProblems(readme: string, text: string, exists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? ''),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] ?? ''),
  ];
  for (const target of targets) {
    if (target.startsWith('#')) continue;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) {
      problems.push(`${readme}: links outside the repository: ${target}`);
      continue;
    }
    if (target.startsWith('/')) {
      problems.push(`${readme}: absolute path ${target}`);
      continue;
    }
    const path = normalize(join(dirname(readme), decodeURIComponent(target.split('#')[0] ?? '')));
    if (path.startsWith('..')) problems.push(`${readme}: leaves the repository: ${target}`);
    else if (!exists(path)) problems.push(`${readme}: no such file: ${target}`);
  }
  return problems;
}

const map = parseMap(readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8'));
const packages = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
);

describe('docs/ARCHITECTURE.md agrees with the code', () => {
  it('lists every package once, and only packages that exist or are planned', () => {
    const names = map.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    expect(sorted(packages.filter((name) => !names.includes(name)))).toEqual([]);
    for (const row of map) {
      if (!packages.includes(row.name)) expect(row.status, `${row.name} has no package`).toBe('planned');
    }
  });

  it.each(packages)('%s: the dependency column is package.json, and covers every sibling import', (name) => {
    const row = map.find((r) => r.name === name);
    expect(row, `${name} is missing from the map`).toBeDefined();
    const manifest = JSON.parse(
      readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'),
    ) as Manifest;
    expect(rowProblems(row!, manifest, importsOf(name))).toEqual([]);
  });

  it.each(packages)('%s: "planned" exactly when src/index.ts exports nothing', (name) => {
    const row = map.find((r) => r.name === name);
    const index = readFileSync(join(root, 'packages', name, 'src', 'index.ts'), 'utf8');
    expect(row?.status).toBe(exportsSomething(index) ? 'built' : 'planned');
  });

  it('the dependency graph has no cycle, and nothing depends on cli or examples', () => {
    expect(findCycle(map)).toBeUndefined();
    for (const row of map) {
      expect(row.dependencies, row.name).not.toContain('cli');
      expect(row.dependencies, row.name).not.toContain('examples');
    }
  });
});

describe('the checks can fail', () => {
  const table = [
    '| package | status | owns | depends on |',
    '|---|---|---|---|',
    '| `packages/a` | built | x | b, eventemitter3, fast-check (peer, optional) |',
    '| `packages/b` | planned | y | — |',
  ].join('\n');
  const [a, b] = parseMap(table);

  it('parses names, status, dependencies and peers', () => {
    expect(a).toEqual({
      name: 'a',
      status: 'built',
      dependencies: ['b', 'eventemitter3'],
      peers: ['fast-check'],
    });
    expect(b).toEqual({ name: 'b', status: 'planned', dependencies: [], peers: [] });
    expect(() => parseMap('| `packages/c` | soon | z | — |')).toThrow(TypeError);
  });

  it('a column that disagrees with package.json, or an import outside it, is reported', () => {
    const manifest = {
      dependencies: { '@vfiokit/b': '0.1.0', eventemitter3: '^5' },
      peerDependencies: { 'fast-check': '^4' },
    };
    expect(rowProblems(a!, manifest, new Set(['b']))).toEqual([]);
    expect(rowProblems(a!, { ...manifest, dependencies: { '@vfiokit/b': '0.1.0' } }, new Set())).toHaveLength(
      1,
    );
    expect(rowProblems(a!, { dependencies: manifest.dependencies }, new Set())).toHaveLength(1);
    expect(rowProblems(a!, manifest, new Set(['b', 'c']))).toEqual(['a imports c, not in the map']);
  });

  it('finds every import form, and cycles', () => {
    expect(
      sorted(
        siblingImports(
          "import { x } from '@vfiokit/core';\nexport { y } from \"@vfiokit/vfio/uapi\";\nconst z = await import('@vfiokit/host');\nimport type { T } from '@vfiokit/smmu';",
        ),
      ),
    ).toEqual(['core', 'host', 'smmu', 'vfio']);
    const loop = parseMap(
      [
        '| `packages/p` | built | x | q |',
        '| `packages/q` | built | y | r |',
        '| `packages/r` | built | z | p |',
      ].join('\n'),
    );
    expect(findCycle(loop)).toEqual(['p', 'q', 'r', 'p']);
    expect(exportsSomething('// nothing yet\nexport {};\n')).toBe(false);
    expect(exportsSomething("export { a } from './a.js';\n")).toBe(true);
  });

  it('README links: external, absolute, escaping and dangling links are reported; anchors and files pass', () => {
    const exists = (path: string): boolean => ['packages/x/README.md', 'docs/ARCHITECTURE.md'].includes(path);
    const text = [
      '[ok](../../docs/ARCHITECTURE.md) [anchor](#design) [sibling](README.md#usage)',
      '[web](https://kernel.org/doc) [abs](/work/shared/x.md) [out](../../../shared/design/ARCHITECTURE.md)',
      '[gone](missing.md)',
      '[ref]: http://example.com/',
      'A plain URL in text stays: https://lore.kernel.org/',
    ].join('\n');
    expect(readmeLinkProblems('packages/x/README.md', text, exists)).toEqual([
      'packages/x/README.md: links outside the repository: https://kernel.org/doc',
      'packages/x/README.md: absolute path /work/shared/x.md',
      'packages/x/README.md: leaves the repository: ../../../shared/design/ARCHITECTURE.md',
      'packages/x/README.md: no such file: missing.md',
      'packages/x/README.md: links outside the repository: http://example.com/',
    ]);
  });
});

describe('READMEs link only inside the repository', () => {
  const readmes = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((path) => /(^|\/)README\.md$/i.test(path) && existsSync(join(root, path)));

  it('finds the READMEs', () => {
    expect(readmes).toContain('README.md');
    expect(readmes).toContain('packages/core/README.md');
  });

  it.each(readmes)('%s', (readme) => {
    const text = readFileSync(join(root, readme), 'utf8');
    const exists = (path: string): boolean =>
      existsSync(join(root, path)) && !relative(root, join(root, path)).startsWith('..');
    expect(readmeLinkProblems(readme, text, exists)).toEqual([]);
  });
});
