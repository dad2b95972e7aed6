import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type DeviceTree, parseFdt, serializeFdt, toDts } from '@vfiokit/devicetree';
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

describe('bytes above 0x7f go out raw, as dtc writes them', () => {
  // A node and a property name with byte 0xe9: dtc refuses the names (node_name_chars) unless
  // forced, and then writes the byte itself; UTF-8 output would write two bytes instead.
  const tree: DeviceTree = {
    header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
    reserveMap: [],
    root: {
      name: '',
      properties: [],
      children: [
        {
          name: 'caf\u00e9@1',
          properties: [{ name: 'x\u00e9', value: Uint8Array.of(0x41, 0xe9, 0) }],
          children: [],
        },
      ],
    },
  };
  const blob = serializeFdt(tree);
  const expected = Buffer.from(
    '/dts-v1/;\n\n/ {\n\n\tcaf\xe9@1 {\n\t\tx\xe9 = [41 e9 00];\n\t};\n};\n',
    'latin1',
  );

  it('one byte 0xe9 per 0xe9 in the blob', async () => {
    const result = await run(['dts', 'high.dtb'], { readFile: async () => blob });
    expect(result.status).toBe(0);
    expect(result.stdout.equals(expected)).toBe(true);
  });

  it.skipIf(!dtc.ok)('what dtc -f writes', () => {
    const forced = spawnSync('dtc', ['-f', '-I', 'dtb', '-O', 'dts', '-'], { input: blob });
    expect(forced.stdout.equals(expected)).toBe(true);
  });
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
