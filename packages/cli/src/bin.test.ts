// The real process: `node bin/vfiokit.mjs` (the launcher npm links as `vfiokit`), for what
// only a process shows: exit statuses, stderr, stdout bytes through a pipe, the shebang.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixtureBlobs } from './test-support/fixtures.js';

const launcher = fileURLToPath(new URL('../bin/vfiokit.mjs', import.meta.url));
const juno = fixtureBlobs().find((b) => b.name === 'dtb/juno-r2.dtb')!;

interface Ran {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function vfiokitWith(input: Uint8Array, ...args: string[]): Ran {
  const child = spawnSync(process.execPath, [launcher, ...args], {
    input,
    timeout: 60_000,
    maxBuffer: 1 << 26,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr.toString() };
}

const vfiokit = (...args: string[]): Ran => vfiokitWith(new Uint8Array(0), ...args);

describe('the vfiokit process', { timeout: 120_000 }, () => {
  it('the launcher is a node script (npm links it as the vfiokit bin)', () => {
    expect(readFileSync(launcher, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ vfiokit: './bin/vfiokit.mjs' });
    expect(readFileSync(new URL('./bin.ts', import.meta.url), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('dts FILE: the dtc text on stdout, status 0', () => {
    const result = vfiokit('dts', juno.dtb);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.equals(readFileSync(juno.dts))).toBe(true);
  });

  it('dts -: the blob from standard input, as dtc reads it', () => {
    const result = vfiokitWith(readFileSync(juno.dtb), 'dts', '-');
    expect(result.status).toBe(0);
    expect(result.stdout.equals(readFileSync(juno.dts))).toBe(true);
    const empty = vfiokit('dts', '-');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/^vfiokit: -: FDT_ERR_TRUNCATED[^\n]*\n$/);
  });

  it('analyze: the demo SoC table, and a board from standard input as JSON, status 0', () => {
    const demo = vfiokit('analyze', '--color', 'never');
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
    expect(demo.stdout.toString('utf8')).toMatch(/^vfiokit analyze: demo-soc \(built in\)/);
    const board = vfiokitWith(readFileSync(juno.dtb), 'analyze', '--format', 'json', '-');
    expect(board.status).toBe(0);
    expect((JSON.parse(board.stdout.toString('utf8')) as { source: string }).source).toBe('-');
  });

  it('without a build, the launcher runs a bundle of the sources cached under node_modules/.cache', () => {
    if (existsSync(fileURLToPath(new URL('../dist/bin.js', import.meta.url)))) return;
    expect(vfiokit('--version').status).toBe(0);
    const bundle = fileURLToPath(
      new URL('../../../node_modules/.cache/vfiokit-cli/vfiokit.mjs', import.meta.url),
    );
    expect(existsSync(bundle)).toBe(true);
    expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(
      statSync(fileURLToPath(new URL('./bin.ts', import.meta.url))).mtimeMs,
    );
  });

  it('a missing file: one line on stderr, status 2', () => {
    const result = vfiokit('dts', '/nonexistent/board.dtb');
    expect(result.status).toBe(2);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toBe('vfiokit: /nonexistent/board.dtb: ENOENT (no such file or directory)\n');
  });

  it('an unknown option: the valid ones, status 2; --version: status 0', () => {
    const bad = vfiokit('dts', '--frob', juno.dtb);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('valid options: --labels');
    const version = vfiokit('--version');
    expect(version.status).toBe(0);
    expect(version.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
