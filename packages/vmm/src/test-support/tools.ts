// The real dtc and fdtoverlay (DTC 1.6.1's libfdt fdt_overlay_apply), for cross-checks. Tests
// that need them are skipped, with a visible note, where they are not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let present: boolean | undefined;

export function hasDtcTools(): boolean {
  if (present === undefined) {
    present =
      spawnSync('dtc', ['--version'], { timeout: 5000 }).status === 0 &&
      spawnSync('fdtoverlay', ['--help'], { timeout: 5000 }).error === undefined;
    if (!present) console.warn('[vmm] dtc/fdtoverlay not found: the libfdt overlay cross-checks are SKIPPED');
  }
  return present;
}

/** `dtc -@ -I dts -O dtb` of `source`. */
export function compileDts(source: string): Uint8Array {
  const run = spawnSync('dtc', ['-@', '-q', '-I', 'dts', '-O', 'dtb', '-'], {
    input: source,
    timeout: 10_000,
  });
  if (run.status !== 0) throw new TypeError(`dtc failed: ${run.stderr?.toString()}`);
  return new Uint8Array(run.stdout);
}

/** `fdtoverlay -i base -o out overlay…`; the output blob, or the tool's stderr as an error. */
export function fdtoverlay(base: Uint8Array, ...overlays: Uint8Array[]): Uint8Array | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-ovl-'));
  writeFileSync(join(dir, 'base.dtb'), base);
  const names = overlays.map((o, i) => {
    const n = join(dir, `o${i}.dtbo`);
    writeFileSync(n, o);
    return n;
  });
  const run = spawnSync('fdtoverlay', ['-i', join(dir, 'base.dtb'), '-o', join(dir, 'out.dtb'), ...names], {
    timeout: 10_000,
  });
  if (run.status !== 0) return { error: `${run.stdout?.toString() ?? ''}${run.stderr?.toString() ?? ''}` };
  return new Uint8Array(readFileSync(join(dir, 'out.dtb')));
}
