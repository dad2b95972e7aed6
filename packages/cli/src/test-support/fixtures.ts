// Test support (not part of the public face): the shared fixtures beside the repository and
// the host's dtc, found the way @vfiokit/devicetree's tests find them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest `shared/fixtures/` above this file (also from a copy nested deeper). */
export const FIXTURES_DIR: string = findFixtures();

function findFixtures(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'fixtures');
    if (existsSync(join(candidate, 'dtb'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new RangeError(`no shared/fixtures/ above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Every fixture blob (dtb/ and corpus/), with the dtc 1.6.1 text beside it. */
export function fixtureBlobs(): readonly {
  readonly name: string;
  readonly dtb: string;
  readonly dts: string;
}[] {
  return ['dtb', 'corpus'].flatMap((sub) =>
    readdirSync(join(FIXTURES_DIR, sub))
      .filter((file) => file.endsWith('.dtb'))
      .sort()
      .map((file) => ({
        name: `${sub}/${file}`,
        dtb: join(FIXTURES_DIR, sub, file),
        dts: join(FIXTURES_DIR, sub, file.replace(/\.dtb$/, '.dts')),
      })),
  );
}

/** The host's dtc when it is DTC 1.6.1 (the version the oracle texts come from), with why not. */
export function dtc161(): { readonly ok: boolean; readonly why: string } {
  const probe = spawnSync('dtc', ['--version'], { timeout: 5000, encoding: 'utf8' });
  if (probe.status !== 0) return { ok: false, why: 'dtc not found (install device-tree-compiler)' };
  const version = /DTC (\S+)/.exec(probe.stdout)?.[1] ?? probe.stdout.trim();
  return version === '1.6.1' ? { ok: true, why: '' } : { ok: false, why: `dtc is ${version}, not 1.6.1` };
}

/** `dtc -I dtb -O dts FILE`, its stdout bytes. */
export function dtcDts(file: string): Buffer {
  const run = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { timeout: 20_000, maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new RangeError(`dtc failed on ${file}: ${run.stderr?.toString()}`);
  return run.stdout;
}
