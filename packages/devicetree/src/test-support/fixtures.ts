// Test support (not part of the package's public face): the shared real-world fixtures and
// the host's dtc, run with a timeout because dtc 1.6.1 can loop forever on a bad blob.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared fixtures (/work/shared/fixtures beside the repository): the nearest
 * `shared/fixtures/` above this file, so the tests also find it from a copy of the
 * repository nested deeper (a mutation-testing sandbox under coverage/).
 */
export const FIXTURES_DIR: string = findFixtures();

function findFixtures(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'fixtures');
    if (existsSync(join(candidate, 'dtb'))) return `${candidate}/`;
    const up = dirname(dir);
    if (up === dir) throw new RangeError(`no shared/fixtures/ above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** One fixture blob and its dtc 1.6.1 oracle text. */
export interface Fixture {
  readonly name: string;
  readonly blob: Uint8Array;
  readonly dts: string;
  /** QEMU dumpdtb blobs (libfdt sequential-write layout, 1 MiB), not written by dtc. */
  readonly qemu: boolean;
}

let cache: readonly Fixture[] | undefined;

/** Every `*.dtb` of fixtures/dtb and fixtures/corpus with its `.dts`. */
export function fixtures(): readonly Fixture[] {
  if (cache !== undefined) return cache;
  const out: Fixture[] = [];
  for (const sub of ['dtb', 'corpus']) {
    const dir = `${FIXTURES_DIR}${sub}/`;
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.dtb'))
      .sort()) {
      out.push({
        name: `${sub}/${file}`,
        blob: new Uint8Array(readFileSync(`${dir}${file}`)),
        dts: readFileSync(`${dir}${file.replace(/\.dtb$/, '.dts')}`, 'latin1'),
        qemu: file.startsWith('qemu-'),
      });
    }
  }
  cache = out;
  return out;
}

/** One fixture by file name (`juno-r2.dtb`). */
export function fixture(file: string): Fixture {
  const found = fixtures().find((f) => f.name.endsWith(`/${file}`));
  if (found === undefined) throw new RangeError(`no fixture ${file} in ${FIXTURES_DIR}`);
  return found;
}

/** Result of one dtc run. */
export interface DtcRun {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
}

let dtcPresent: boolean | undefined;

/** Whether `dtc` runs on this machine; logs a visible note once when it does not. */
export function hasDtc(): boolean {
  if (dtcPresent === undefined) {
    const probe = spawnSync('dtc', ['--version'], { timeout: 5000 });
    dtcPresent = probe.status === 0;
    if (!dtcPresent)
      console.warn(
        '[devicetree] dtc not found: the dtc cross-checks are SKIPPED (install device-tree-compiler)',
      );
  }
  return dtcPresent;
}

/** Runs `dtc args` on `input` (stdin) with a timeout. */
export function runDtc(args: readonly string[], input: Uint8Array, timeoutMs = 10_000): DtcRun {
  const run = spawnSync('dtc', [...args, '-'], { input, timeout: timeoutMs, maxBuffer: 1 << 28 });
  return {
    status: run.status,
    stdout: run.stdout ?? Buffer.alloc(0),
    stderr: run.stderr?.toString('latin1') ?? '',
    timedOut: run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT',
  };
}

/** Whether the shared fixtures are present (they are in this repository's CI). */
export function hasFixtures(): boolean {
  return existsSync(`${FIXTURES_DIR}dtb/MANIFEST.md`);
}
