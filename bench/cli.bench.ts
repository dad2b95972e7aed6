// `vfiokit analyze` as a whole process on the largest fixture, beside `dtc -I dtb -O dts` on
// the same file in the same run, and analyze time per device over the shared corpus.
//
// The process runs the CLI as it ships (one bundled file, as `npm run build` gives dist/bin.js
// with its dependencies): the sources are bundled once with esbuild into a temporary directory,
// so the numbers do not include tsx compiling TypeScript on the fly (the fresh-clone launcher).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseFdt } from '@vfiokit/devicetree';
import { analyzeHost, createHost } from '@vfiokit/host';
import { build } from 'esbuild';
import { medianMs, printTable } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/', import.meta.url));

function fixtures(): string[] {
  return ['dtb', 'corpus'].flatMap((sub) =>
    readdirSync(`${FIXTURES}${sub}`)
      .filter((n) => n.endsWith('.dtb'))
      .map((n) => `${FIXTURES}${sub}/${n}`),
  );
}

// The largest by structure + strings (QEMU's dumpdtb blobs are 1 MiB of mostly free space).
function contentBytes(file: string): number {
  const blob = readFileSync(file);
  return blob.readUInt32BE(0x20) + blob.readUInt32BE(0x24);
}

function wallMs(command: string, args: readonly string[], runs = 7): { ms: number; status: number | null } {
  let status: number | null = null;
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const elapsed = performance.now() - start;
    status = result.status;
    if (i > 0) times.push(elapsed); // the first run warms the file cache
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? 0, status };
}

export default async function main(): Promise<void> {
  const files = fixtures();
  const largest = files.reduce((a, b) => (contentBytes(b) > contentBytes(a) ? b : a));
  const dir = mkdtempSync(join(tmpdir(), 'vfiokit-cli-bench-'));
  try {
    const bundle = join(dir, 'vfiokit.mjs');
    await build({
      entryPoints: [join(ROOT, 'packages/cli/src/bin.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      tsconfig: join(ROOT, 'tsconfig.json'),
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
    const name = largest.slice(FIXTURES.length);
    const rows: string[][] = [];
    const node = wallMs(process.execPath, ['-e', '']);
    rows.push([`node -e '' (process start)`, '—', node.ms.toFixed(0)]);
    const dtc = wallMs('dtc', ['-I', 'dtb', '-O', 'dts', '-o', '/dev/null', largest]);
    rows.push([`dtc -I dtb -O dts ${name}`, String(dtc.status), dtc.ms.toFixed(0)]);
    for (const format of ['table', 'json', 'html']) {
      const run = wallMs(process.execPath, [bundle, 'analyze', '--format', format, largest]);
      rows.push([`vfiokit analyze --format ${format} ${name}`, String(run.status), run.ms.toFixed(0)]);
    }
    const demo = wallMs(process.execPath, [bundle, 'analyze']);
    rows.push(['vfiokit analyze (built-in demo SoC)', String(demo.status), demo.ms.toFixed(0)]);
    console.log(`Whole processes, median of 7 (bundle ${(statSync(bundle).size / 1024).toFixed(0)} KiB):\n`);
    printTable(['command', 'status', 'ms'], rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // In-process: boot + analyze per fixture, per device.
  const perDevice: string[][] = [];
  let totalMs = 0;
  let totalDevices = 0;
  for (const file of files) {
    const tree = parseFdt(new Uint8Array(readFileSync(file)));
    let devices = 0;
    const ms = medianMs(() => {
      devices = analyzeHost(createHost(tree)).devices.length;
    }, 3);
    totalMs += ms;
    totalDevices += devices;
    perDevice.push([
      file.slice(FIXTURES.length),
      String(devices),
      ms.toFixed(1),
      ((ms * 1000) / devices).toFixed(0),
    ]);
  }
  perDevice.sort((a, b) => Number(b[2]) - Number(a[2]));
  console.log('\nIn-process createHost + analyzeHost (median of 3), slowest 5 and the corpus:\n');
  printTable(
    ['fixture', 'devices', 'ms', 'µs/device'],
    [
      ...perDevice.slice(0, 5),
      [
        `all ${files.length} fixtures`,
        String(totalDevices),
        totalMs.toFixed(0),
        ((totalMs * 1000) / totalDevices).toFixed(0),
      ],
    ],
  );
}
