import { readFileSync } from 'node:fs';
import { serializeFdt } from '@vfiokit/devicetree';
import {
  analyzeHost,
  buildDemoSoc,
  createHost,
  DEMO_SOC_SOURCE,
  HOST_OPTION_KEYS,
  type HostAnalysis,
} from '@vfiokit/host';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANALYZE_JSON_SCHEMA } from '../analyze/schema.js';
import { fixtureBlobs } from '../test-support/fixtures.js';
import { run } from '../test-support/run.js';

const validate = new Ajv({ allErrors: true, strict: true }).compile(ANALYZE_JSON_SCHEMA);
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is checked
const ANSI = /\u001b\[[0-9;]*m/g;
const fixtures = fixtureBlobs();
const juno = fixtures.find((b) => b.name === 'dtb/juno-r2.dtb');
const demoBlob = serializeFdt(buildDemoSoc());

async function json(argv: readonly string[]): Promise<HostAnalysis> {
  const result = await run(['analyze', '--format', 'json', ...argv]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout.toString('utf8')) as HostAnalysis;
}

describe('vfiokit analyze on the built-in demo SoC', () => {
  it('prints the analysis as JSON that the shipped schema accepts, equal to analyzeHost', async () => {
    const analysis = await json([]);
    expect(validate(analysis), JSON.stringify(validate.errors)).toBe(true);
    expect(analysis).toEqual(
      JSON.parse(JSON.stringify(analyzeHost(createHost(buildDemoSoc()), { source: DEMO_SOC_SOURCE }))),
    );
  });

  it('flags reach the host: each module parameter, the kernel, reset modules, DMA policy, emulated_generic', async () => {
    const analysis = await json([
      '--reset-required',
      '0',
      '--allow-unsafe-interrupts',
      '--enable-unsafe-noiommu-mode=1',
      '--dma-entry-limit',
      '100',
      '--kernel',
      '6.18',
      '--reset-modules',
      'xgmac,flexrm',
      '--dma-override',
      'device:10060000.sensor:non-master',
      '--dma-override',
      'compatible:vfiokit,demo-accel:master',
      '--no-dma-property',
      '--emulated-generic',
    ]);
    expect(analysis.settings).toEqual({
      kernel: '6.18',
      reset_required: false,
      allow_unsafe_interrupts: true,
      enable_unsafe_noiommu_mode: true,
      dma_entry_limit: 100,
      reset_modules: ['calxeda,hb-xgmac', 'brcm,iproc-flexrm-mbox'],
      dma_policy: {
        overrides: [
          { kind: 'device', value: '10060000.sensor', verdict: 'non-master' },
          { kind: 'compatible', value: 'vfiokit,demo-accel', verdict: 'master' },
        ],
        dt_property: false,
        builtin_classes: true,
      },
      emulated_generic: true,
    });
    expect(analysis.devices.find((d) => d.name === '10060000.sensor')?.dma.verdict).toBe('non-master');
  });

  it('--cmdline sets module parameters; a typed flag wins over it', async () => {
    const cmdline = 'vfio_platform.reset_required=0 vfio_iommu_type1.allow_unsafe_interrupts=1';
    expect((await json(['--cmdline', cmdline])).settings).toMatchObject({
      reset_required: false,
      allow_unsafe_interrupts: true,
    });
    expect((await json(['--cmdline', cmdline, '--reset-required', 'y'])).settings.reset_required).toBe(true);
  });

  it('has a flag for every host option (a new option without a flag fails here)', async () => {
    const FLAG_OF: Record<string, string> = {
      cmdline: '--cmdline <text>',
      reset_required: '--reset-required <bool>',
      enable_unsafe_noiommu_mode: '--enable-unsafe-noiommu-mode [bool]',
      allow_unsafe_interrupts: '--allow-unsafe-interrupts [bool]',
      dma_entry_limit: '--dma-entry-limit <n>',
      profile: '--kernel <version>',
      resetModules: '--reset-modules <list>',
      dma_policy: '--dma-override <kind:value:verdict>',
      emulated_generic: '--emulated-generic [bool]',
      msi_frame_viability: '--msi-frame-viability [bool]',
    };
    expect(Object.keys(FLAG_OF).sort()).toEqual([...HOST_OPTION_KEYS].sort());
    // Every command that boots a host takes all of them (one definition: host-flags.ts).
    for (const command of ['analyze', 'assign', 'release']) {
      const help = (await run([command, '--help'])).stdout.toString('utf8');
      for (const flag of Object.values(FLAG_OF)) expect(help, `${command} ${flag}`).toContain(flag);
    }
  });

  it('--schema prints the schema', async () => {
    const result = await run(['analyze', '--schema']);
    expect(JSON.parse(result.stdout.toString('utf8'))).toEqual(ANALYZE_JSON_SCHEMA);
  });
});

describe('the table', () => {
  it('fits 80 columns and has no colour off a terminal', async () => {
    const result = await run(['analyze', '--reasons']);
    const text = result.stdout.toString('utf8');
    expect(text).not.toMatch(ANSI);
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(text).toMatch(/^fff50000\.ethernet +plat master +smmu +0 +yes -$/m);
    expect(text).toMatch(/^ {4}- behind \/soc\/iommu@2b400000, IOMMU group 0$/m);
  });

  it('colours verdicts on a terminal, not with NO_COLOR, always with --color always', async () => {
    const tty = (await run(['analyze'], { isTTY: true, env: {} })).stdout.toString('utf8');
    expect(tty).toMatch(ANSI);
    expect(tty).toContain('\u001b[32myes\u001b[0m');
    const noColor = (await run(['analyze'], { isTTY: true, env: { NO_COLOR: '1' } })).stdout.toString('utf8');
    expect(noColor).not.toMatch(ANSI);
    // no-color.org: an empty NO_COLOR does not count.
    expect((await run(['analyze'], { isTTY: true, env: { NO_COLOR: '' } })).stdout.toString('utf8')).toMatch(
      ANSI,
    );
    expect((await run(['analyze', '--color', 'always'])).stdout.toString('utf8')).toMatch(ANSI);
    expect((await run(['analyze', '--color', 'never'], { isTTY: true })).stdout.toString('utf8')).not.toMatch(
      ANSI,
    );
    expect(tty.replace(ANSI, '')).toBe(noColor);
  });
});

describe('dot, mermaid and html draw SMMUs, groups, MSI controllers, resources and devices by verdict', () => {
  it('dot', async () => {
    const text = (await run(['analyze', '--format', 'dot'])).stdout.toString('utf8');
    expect(text.startsWith('digraph vfiokit {')).toBe(true);
    expect(text).toContain('subgraph cluster_g1 {');
    expect(text).toMatch(/label="iommu@2b400000", shape=box3d/);
    expect(text).toMatch(/label="msi-controller@2f020000", shape=hexagon/);
    expect(text).toMatch(/label="clock-controller@10010000", shape=component/);
    expect(text).toMatch(
      /label="fff50000\.ethernet\\nsmmu", shape=box, style="rounded,filled", fontcolor=white, fillcolor="#2e7d32"/,
    );
    expect(text).toMatch(/label="ff200000\.sata\\nnoiommu".*fillcolor="#ef6c00"/);
    expect(text).toMatch(/label="MSI \(not isolated\)"/);
    expect(text.trimEnd().endsWith('}')).toBe(true);
  });

  it('mermaid', async () => {
    const text = (await run(['analyze', '--format', 'mermaid'])).stdout.toString('utf8');
    expect(lines(text)[0]).toBe('flowchart LR');
    expect(text).toContain('subgraph g1["IOMMU group 1"]');
    expect(text).toMatch(/classDef assignable fill:#2e7d32/);
    expect(text).toMatch(/class n\d+(,n\d+)* assignable/);
    expect(text).toMatch(/\{\{"msi-controller@2f020000"\}\}/);
  });

  it('html: one page, no external resources, the picture and a row per device', async () => {
    const text = (await run(['analyze', '--format', 'html'])).stdout.toString('utf8');
    expect(text.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(text).toContain('<svg id="picture"');
    expect(text).not.toMatch(/<script|<link|src="http|href="http/);
    expect(text.match(/<tr class="/g)?.length).toBe(15);
    expect(text).toContain('DEPRECATION: VFIO Calxeda xgmac platform reset is deprecated');
  });
});

describe('bad input and usage', () => {
  it('a missing file: one line, ENOENT, status 2', async () => {
    const result = await run(['analyze', '/nonexistent/board.dtb']);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'vfiokit: /nonexistent/board.dtb: ENOENT (no such file or directory)',
    ]);
  });

  it('a malformed blob: one line with the FdtError code, status 2', async () => {
    const result = await run(['analyze', 'notes.txt'], {
      readFile: async () =>
        new TextEncoder().encode('# Read me\nnot a device tree, a text file of some length\n'),
    });
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'vfiokit: notes.txt: FDT_ERR_BADMAGIC at byte 0: magic is 0x23205265, not 0xd00dfeed',
    ]);
  });

  it('an unknown option lists the valid ones; a bad value names the option', async () => {
    const unknown = await run(['analyze', '--frmat', 'json']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--frmat'/);
    expect(unknown.stderr).toMatch(/valid options: .*--format <format>.*--allow-unsafe-interrupts \[bool\]/);
    const bad = await run(['analyze', '--format', 'xml']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format <format>' argument 'xml' is invalid/);
    const kernel = await run(['analyze', '--kernel', 'six']);
    expect(kernel.status).toBe(2);
    expect(kernel.stderr).toMatch(/expected MAJOR\.MINOR/);
    const override = await run(['analyze', '--dma-override', 'sensor']);
    expect(override.status).toBe(2);
  });

  it('--help and --version for the command', async () => {
    const help = await run(['analyze', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout.toString('utf8')).toMatch(/^Usage: vfiokit analyze \[options\] \[FILE\]/);
    for (const line of help.stdout.toString('utf8').split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    const version = await run(['analyze', '--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.toString('utf8')).toBe('0.1.0\n');
  });

  it('a progress line on stderr when the input will take longer than the limit, none otherwise', async () => {
    const fast = await run(['analyze', 'demo.dtb'], { readFile: async () => demoBlob });
    expect(fast.stderr).toBe('');
    const slow = await run(['analyze', 'demo.dtb'], { readFile: async () => demoBlob, progressAfterMs: 0 });
    expect(lines(slow.stderr)).toEqual([
      expect.stringMatching(/^vfiokit analyze: analysing demo\.dtb \(\d+\.\d s so far\)…$/),
    ]);
    expect(slow.status).toBe(0);
  });

  it('random and mutated blobs: status 0, or status 2 with one line naming the file and a code (property)', async () => {
    const base = demoBlob;
    const mutant = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc
        .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        })
        .map((edits) => {
          const copy = new Uint8Array(base);
          for (const [at, value] of edits) copy[at] = value;
          return copy;
        }),
      fc.nat({ max: base.length }).map((end) => base.slice(0, end)),
    );
    await fc.assert(
      fc.asyncProperty(mutant, async (blob) => {
        const result = await run(['analyze', '--format', 'json', 'm.dtb'], { readFile: async () => blob });
        if (result.status === 0) {
          expect(validate(JSON.parse(result.stdout.toString('utf8')))).toBe(true);
          return;
        }
        expect(result.status).toBe(2);
        expect(lines(result.stderr)).toHaveLength(1);
        expect(result.stderr).toMatch(/^vfiokit: m\.dtb: (FDT_ERR_[A-Z]+|E[A-Z0-9]+)[ :]/);
      }),
      { numRuns: 120 },
    );
  });
});

describe.skipIf(fixtures.length === 0)('every shared fixture', () => {
  it.each(fixtures.map((f) => [f.name, f.dtb] as const))(
    '%s: schema-valid JSON, an 80-column table',
    async (_n, dtb) => {
      const analysis = await json([dtb]);
      expect(validate(analysis), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      expect(analysis.source).toBe(dtb);
      const table = (await run(['analyze', '--reasons', dtb])).stdout.toString('utf8');
      for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    },
  );

  it.skipIf(juno === undefined)('Juno r2: dot, mermaid and html render', async () => {
    for (const format of ['dot', 'mermaid', 'html']) {
      const result = await run(['analyze', '--format', format, juno?.dtb ?? '']);
      expect(result.status).toBe(0);
      expect(result.stdout.length).toBeGreaterThan(1000);
    }
    expect(readFileSync(juno?.dtb ?? '').length).toBe(35450);
  });
});
