import { readFileSync } from 'node:fs';
import { isKernelError } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';
import { fixtureBlobs } from './test-support/fixtures.js';
import { run } from './test-support/run.js';
import { VERSION } from './version.js';

const juno = fixtureBlobs().find((b) => b.name === 'dtb/juno-r2.dtb')!;
const junoBytes = new Uint8Array(readFileSync(juno.dtb));
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const fromMemory = (bytes: Uint8Array) => async (): Promise<Uint8Array> => bytes;

describe('bad input: one line on stderr naming the file and the cause, exit status 2', () => {
  it('a missing file: ENOENT', async () => {
    const result = await run(['dts', '/nonexistent/board.dtb']);
    expect(result.status).toBe(2);
    expect(result.exits).toEqual([2]);
    expect(result.stdout.length).toBe(0);
    expect(lines(result.stderr)).toEqual([
      'vfiokit: /nonexistent/board.dtb: ENOENT (no such file or directory)',
    ]);
  });

  it('a directory: EISDIR', async () => {
    const result = await run(['dts', juno.dtb.replace(/\/[^/]+$/, '')]);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/fixtures\/dtb: EISDIR/);
  });

  it('an unreadable file: EACCES (injected: root reads any file)', async () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open 'secret.dtb'"), {
      code: 'EACCES',
      syscall: 'open',
    });
    const result = await run(['dts', 'secret.dtb'], {
      readFile: () => Promise.reject(denied),
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('vfiokit: secret.dtb: EACCES (permission denied)\n');
  });

  it('a text file: FDT_ERR_BADMAGIC', async () => {
    const result = await run(['dts', juno.dts]);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`${juno.dts}: FDT_ERR_BADMAGIC`);
  });

  it('a truncated blob: FDT_ERR_TRUNCATED', async () => {
    const result = await run(['dts', 'cut.dtb'], { readFile: fromMemory(junoBytes.subarray(0, 200)) });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^vfiokit: cut\.dtb: FDT_ERR_TRUNCATED[^\n]*\n$/);
  });

  it('a file name with a newline still makes one line', async () => {
    const result = await run(['dts', 'a\nb.dtb']);
    expect(lines(result.stderr)).toEqual(['vfiokit: a b.dtb: ENOENT (no such file or directory)']);
  });

  it('property: any bytes print DTS (0) or one FDT_ERR line (2), never an internal error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 128 }),
          // Real headers with corrupted bytes reach deeper checks than random noise.
          fc
            .tuple(
              fc.nat({ max: junoBytes.length - 1 }),
              fc.integer({ min: 0, max: 255 }),
              fc.nat({ max: 4096 }),
            )
            .map(([at, byte, cut]) => {
              const copy = junoBytes.slice(0, junoBytes.length - cut);
              copy[at % copy.length] = byte;
              return copy;
            }),
        ),
        async (bytes) => {
          const result = await run(['dts', 'x.dtb'], { readFile: fromMemory(bytes) });
          if (result.status === 0) expect(result.stderr).toBe('');
          else {
            expect(result.status).toBe(2);
            expect(result.stdout.length).toBe(0);
            expect(result.stderr).toMatch(/^vfiokit: x\.dtb: FDT_ERR_[A-Z]+[^\n]*\n$/);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('usage errors: exit status 2', () => {
  it('an unknown option of dts lists the valid ones', async () => {
    const result = await run(['dts', '--lables', juno.dtb]);
    expect(result.status).toBe(2);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toContain("unknown option '--lables'");
    expect(result.stderr).toContain('valid options: --labels; -V, --version; -h, --help');
  });

  it("an unknown option of the program lists the program's", async () => {
    const result = await run(['--frob']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('valid options: -V, --version; -h, --help');
  });

  it('an unknown command, a missing FILE, and no command at all', async () => {
    for (const argv of [['frob'], ['dts'], []]) {
      const result = await run(argv);
      expect(result.status, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).not.toBe('');
    }
    expect((await run(['dts'])).stderr).toContain("missing required argument 'FILE'");
  });

  it('assign and release are here (issue 15): without arguments they are usage errors', async () => {
    expect((await run(['assign'])).stderr).toContain("missing required argument 'FILE'");
    expect((await run(['release'])).status).toBe(2);
    expect((await run(['analyze', '--version'])).status).toBe(0);
  });
});

describe('--help and --version for the program and every command', () => {
  it.each([[[]], [['dts']], [['analyze']]])('%j --help, -h: usage on stdout, status 0', async (prefix) => {
    for (const flag of ['--help', '-h']) {
      const result = await run([...prefix, flag]);
      expect(result.status).toBe(0);
      expect(result.stdout.toString()).toMatch(/^Usage: vfiokit/);
      expect(result.stderr).toBe('');
    }
    const dts = (await run(['dts', '--help'])).stdout.toString();
    expect(dts).toContain('--labels');
    expect(dts).toContain('<FILE>');
  });

  it.each([[[]], [['dts']], [['analyze']]])(
    '%j --version, -V: the package version, status 0',
    async (prefix) => {
      for (const flag of ['--version', '-V']) {
        const result = await run([...prefix, flag]);
        expect(result.status).toBe(0);
        expect(result.stdout.toString()).toBe(`${VERSION}\n`);
      }
    },
  );

  it("VERSION is the package's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});

describe('the progress line', () => {
  it('a read slower than the limit prints one line naming the file', async () => {
    const slow = (): Promise<Uint8Array> =>
      new Promise((resolve) => setTimeout(() => resolve(junoBytes), 60));
    const result = await run(['dts', 'slow.dtb'], { readFile: slow, progressAfterMs: 10 });
    expect(result.status).toBe(0);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^vfiokit dts: reading slow\.dtb \(\d+\.\d s so far\)…\n$/);
  });

  it('decoding expected to pass the limit is announced before it starts', async () => {
    const result = await run(['dts', 'big.dtb'], { readFile: fromMemory(junoBytes), progressAfterMs: 1 });
    expect(result.status).toBe(0);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/^vfiokit dts: decoding big\.dtb/)]);
  });

  it('a fast input prints none', async () => {
    const result = await run(['dts', 'fast.dtb'], { readFile: fromMemory(junoBytes) });
    expect(result.stderr).toBe('');
  });
});

describe('createProgram', () => {
  it('rejects a misspelt io key with KernelError EINVAL', () => {
    const io = { stdout: () => {}, stderr: () => {}, stdot: () => {} };
    expect(() => createProgram(io)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    try {
      createProgram(io);
    } catch (error) {
      expect(isKernelError(error, 'EINVAL')).toBe(true);
    }
  });

  it('builds a commander program with the analyze, dts, assign and release commands and no others', () => {
    const program = createProgram({ stdout: () => {}, stderr: () => {} });
    expect(program.name()).toBe('vfiokit');
    expect(program.commands.map((command) => command.name())).toEqual([
      'analyze',
      'dts',
      'assign',
      'release',
    ]);
  });
});
