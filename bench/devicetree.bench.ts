// Codec throughput: parseFdt / serializeFdt / toDts on the shared fixtures and on a generated
// 50 MB tree, beside the whole `dtc` process (DTC 1.6.1) doing the same work on the same
// blobs. MB/s are of blob bytes (input blob for parse, toDts and dtc; output for serialize).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type DeviceTree,
  type DtNode,
  type DtProperty,
  parseFdt,
  serializeFdt,
  toDts,
} from '@vfiokit/devicetree';
import { medianMs, printTable } from './measure.js';

const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/', import.meta.url));

function fixtureBlobs(): { files: string[]; blobs: Uint8Array[] } {
  const files: string[] = [];
  for (const sub of ['dtb', 'corpus']) {
    for (const f of readdirSync(`${FIXTURES}${sub}`).filter((n) => n.endsWith('.dtb')))
      files.push(`${FIXTURES}${sub}/${f}`);
  }
  return { files, blobs: files.map((f) => new Uint8Array(readFileSync(f))) };
}

const enc = new TextEncoder();
const cells = (...v: number[]): Uint8Array => {
  const out = new Uint8Array(v.length * 4);
  const view = new DataView(out.buffer);
  v.forEach((x, i) => {
    view.setUint32(i * 4, x, false);
  });
  return out;
};

/** A synthetic SoC-like tree of about `megabytes` MB: buses of devices with typical properties. */
function generatedTree(megabytes: number): DeviceTree {
  const perDevice = 285;
  const devices = Math.round((megabytes * 1e6) / perDevice);
  const buses: DtNode[] = [];
  for (let b = 0; b * 1000 < devices; b++) {
    const children: DtNode[] = [];
    for (let d = 0; d < 1000 && b * 1000 + d < devices; d++) {
      const addr = 0x1000_0000 + d * 0x1000;
      const properties: DtProperty[] = [
        { name: 'compatible', value: enc.encode('vendor,device-v2\0vendor,device\0') },
        { name: 'reg', value: cells(0, addr, 0, 0x1000) },
        { name: 'interrupts', value: cells(0, (b * 1000 + d) % 988, 4) },
        { name: 'clocks', value: cells(1, d % 32, 1, 100) },
        { name: 'clock-names', value: enc.encode('apb_pclk\0core\0') },
        { name: 'status', value: enc.encode(d % 7 === 0 ? 'disabled\0' : 'okay\0') },
        { name: 'dma-coherent', value: new Uint8Array(0) },
        { name: 'vendor,calibration', value: Uint8Array.from({ length: 61 }, (_, i) => (i * 37 + d) & 0xff) },
      ];
      children.push({ name: `device@${addr.toString(16)}`, properties, children: [] });
    }
    buses.push({
      name: `bus@${(b * 0x100000).toString(16)}`,
      properties: [
        { name: 'compatible', value: enc.encode('simple-bus\0') },
        { name: '#address-cells', value: cells(2) },
        { name: '#size-cells', value: cells(2) },
        { name: 'ranges', value: new Uint8Array(0) },
      ],
      children,
    });
  }
  return {
    header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
    reserveMap: [{ address: 0x8000_0000n, size: 0x1_0000n }],
    root: {
      name: '',
      properties: [
        { name: 'model', value: enc.encode('generated\0') },
        { name: '#address-cells', value: cells(2) },
        { name: '#size-cells', value: cells(2) },
      ],
      children: [
        {
          name: 'clock-controller',
          properties: [
            { name: 'compatible', value: enc.encode('vendor,clocks\0') },
            { name: '#clock-cells', value: cells(1) },
            { name: 'phandle', value: cells(1) },
          ],
          children: [],
        },
        ...buses,
      ],
    },
  };
}

function hasDtc(): boolean {
  return spawnSync('dtc', ['--version'], { timeout: 5000 }).status === 0;
}

/** Wall-clock ms of one run of dtc per file, all files in sequence (one run: dtc is slow). */
function dtcMs(files: readonly string[], args: readonly string[]): number {
  const start = performance.now();
  for (const f of files) {
    const run = spawnSync('dtc', [...args, '-q', '-f', '-o', '/dev/null', f], {
      timeout: 300_000,
      maxBuffer: 1 << 30,
    });
    if (run.status !== 0)
      throw new RangeError(`dtc ${args.join(' ')} ${f} failed: ${run.stderr?.toString()}`);
  }
  return performance.now() - start;
}

const mbps = (bytes: number, ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
const msText = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

export default function run(): void {
  const dtc = hasDtc();
  if (!dtc) console.log('dtc not found: the dtc columns are skipped (install device-tree-compiler)\n');
  const rows: string[][] = [];

  const { files, blobs } = fixtureBlobs();
  const total = blobs.reduce((n, b) => n + b.length, 0);
  const trees = blobs.map(parseFdt);
  const outBytes = trees.reduce((n, t) => n + serializeFdt(t).length, 0);
  const parse = medianMs(() => {
    for (const b of blobs) parseFdt(b);
  }, 5);
  const serialize = medianMs(() => {
    for (const t of trees) serializeFdt(t);
  }, 5);
  const dts = medianMs(() => {
    for (const t of trees) toDts(t);
  }, 5);
  rows.push([
    `${blobs.length} fixtures (${(total / 1e6).toFixed(1)} MB, 2 × 1 MiB QEMU)`,
    mbps(total, parse),
    mbps(outBytes, serialize),
    mbps(total, dts),
    mbps(total, parse + serialize),
    dtc ? `${mbps(total, dtcMs(files, ['-I', 'dtb', '-O', 'dtb']))} (${files.length} processes)` : 'skipped',
    dtc ? `${mbps(total, dtcMs(files, ['-I', 'dtb', '-O', 'dts']))}` : 'skipped',
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'vfiokit-bench-'));
  try {
    for (const size of [12.5, 25, 50]) {
      const blob = serializeFdt(generatedTree(size));
      const tree = parseFdt(blob);
      const file = join(dir, `gen-${size}.dtb`);
      writeFileSync(file, blob);
      const p = medianMs(() => parseFdt(blob), 3);
      const s = medianMs(() => serializeFdt(tree), 3);
      const d = medianMs(() => toDts(tree), 1);
      const label = `generated ${(blob.length / 1e6).toFixed(1)} MB`;
      const big = size === 50;
      rows.push([
        label,
        `${mbps(blob.length, p)} (${msText(p)})`,
        `${mbps(blob.length, s)} (${msText(s)})`,
        `${mbps(blob.length, d)} (${msText(d)})`,
        `${msText(p + s)}`,
        dtc && big ? `${msText(dtcMs([file], ['-I', 'dtb', '-O', 'dtb']))}` : dtc ? '—' : 'skipped',
        dtc && big ? `${msText(dtcMs([file], ['-I', 'dtb', '-O', 'dts']))}` : dtc ? '—' : 'skipped',
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(
    [
      'input',
      'parseFdt',
      'serializeFdt',
      'toDts',
      'parse + serialize',
      'dtc -O dtb (process)',
      'dtc -O dts (process)',
    ],
    rows,
  );
}
