import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseFdt, toDts } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { dtc161, dtcDts, fixtureBlobs } from '../test-support/fixtures.js';
import { run } from '../test-support/run.js';

const blobs = fixtureBlobs();
const dtc = dtc161();
if (!dtc.ok) console.warn(`[cli] live dtc comparison SKIPPED: ${dtc.why}`);

describe('vfiokit dts FILE prints what dtc -I dtb -O dts prints', () => {
  it('finds the shared fixtures', () => {
    expect(blobs.length).toBeGreaterThanOrEqual(5);
  });

  it.each(blobs.map((b) => [b.name, b] as const))(
    '%s: the dtc 1.6.1 oracle text, byte for byte',
    async (_, b) => {
      const result = await run(['dts', b.dtb]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout.equals(readFileSync(b.dts))).toBe(true);
    },
  );

  it.skipIf(!dtc.ok).each(blobs.filter((b) => b.name.startsWith('dtb/')).map((b) => [b.name, b] as const))(
    '%s: the host dtc run now, byte for byte',
    async (_, b) => {
      const result = await run(['dts', b.dtb]);
      expect(result.stdout.equals(dtcDts(b.dtb))).toBe(true);
    },
  );
});

describe('vfiokit dts --labels', () => {
  const juno = blobs.find((b) => b.name === 'dtb/juno-r2.dtb');

  it('restores labels from /__symbols__ (what toDts({ labels: true }) prints)', async () => {
    const result = await run(['dts', '--labels', juno!.dtb]);
    expect(result.status).toBe(0);
    const expected = toDts(parseFdt(new Uint8Array(readFileSync(juno!.dtb))), { labels: true });
    expect(result.stdout.toString('latin1')).toBe(expected);
    // The juno tree labels its GIC `gic`: a label the plain text cannot have.
    expect(expected).toMatch(/^\t\w+: interrupt-controller@/m);
    expect(result.stdout.equals(readFileSync(juno!.dts))).toBe(false);
  });

  it.skipIf(!dtc.ok)('compiles back with dtc to the same tree', async () => {
    const result = await run(['dts', '--labels', juno!.dtb]);
    const back = spawnSync('dtc', ['-I', 'dts', '-O', 'dtb', '-'], {
      input: result.stdout,
      maxBuffer: 1 << 26,
    });
    expect(back.status).toBe(0);
    expect(toDts(parseFdt(new Uint8Array(back.stdout)))).toBe(readFileSync(juno!.dts, 'latin1'));
  });
});
