// `vfiokit analyze --format html` opened in a real headless Chromium: the page loads with no
// console message (errors, warnings, failed loads), and the picture is there with one box per
// device. Uses the `chromium` binary (Debian package `chromium`; $CHROMIUM overrides) and
// skips with a visible message when there is none.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runProgram } from '@vfiokit/cli';
import { describe, expect, it } from 'vitest';

function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const candidate of candidates) {
    const found = spawnSync('sh', ['-c', `command -v "${candidate}"`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim();
  }
  return undefined;
}

const chromium = findChromium();
if (chromium === undefined) {
  console.warn(
    'analyze-html.test.ts: SKIPPED — no Chromium binary (install the Debian package `chromium`, or set CHROMIUM=/path/to/chrome)',
  );
}

async function html(argv: readonly string[]): Promise<string> {
  const out: string[] = [];
  const status = await runProgram(['analyze', '--format', 'html', ...argv], {
    stdout: (chunk) => out.push(Buffer.from(chunk).toString('utf8')),
    stderr: () => {},
  });
  expect(status).toBe(0);
  return out.join('');
}

/** Loads `page` headless; returns the DOM after load and the console lines Chromium logged. */
function openInChromium(page: string): { dom: string; console: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'vfiokit-html-'));
  try {
    const file = join(dir, 'analyze.html');
    writeFileSync(file, page);
    const result = spawnSync(
      chromium as string,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--enable-logging=stderr',
        '--v=0',
        '--dump-dom',
        pathToFileURL(file).href,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    // Chromium logs each console message (and uncaught error) as `…:CONSOLE:<line>] "text", source: …`.
    const console = result.stderr.split('\n').filter((line) => line.includes(':CONSOLE'));
    return { dom: result.stdout, console };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));
const juno = [join(root, '../shared/fixtures/dtb/juno-r2.dtb')].find((p) => existsSync(p));

describe.skipIf(chromium === undefined)('analyze --format html in headless Chromium', () => {
  it('the demo SoC: no console message, the picture with a box per device, the table', {
    timeout: 90_000,
  }, async () => {
    const { dom, console } = openInChromium(await html([]));
    expect(console).toEqual([]);
    expect(dom).toContain('<svg id="picture"');
    expect(dom.match(/<g class="node device">/g)?.length).toBe(15);
    expect(dom.match(/<tr class="/g)?.length).toBe(15);
    expect(dom).toContain('IOMMU group 1');
  });

  it.skipIf(juno === undefined)(
    'Juno r2: no console message, the picture present',
    { timeout: 90_000 },
    async () => {
      const page = await html([juno as string]);
      const devices = JSON.parse(
        await new Promise<string>((resolve) => {
          const out: string[] = [];
          void runProgram(['analyze', '--format', 'json', juno as string], {
            stdout: (chunk) => out.push(Buffer.from(chunk).toString('utf8')),
            stderr: () => {},
            exit: () => resolve(out.join('')),
          });
        }),
      ).devices.length as number;
      const { dom, console } = openInChromium(page);
      expect(console).toEqual([]);
      expect(dom.match(/<g class="node device">/g)?.length).toBe(devices);
      expect(readFileSync(juno as string).length).toBeGreaterThan(0);
    },
  );

  it('a page with a script error is caught (the check can fail)', { timeout: 90_000 }, () => {
    const { console } = openInChromium('<!DOCTYPE html><p>x</p><script>undefinedFunction()</script>');
    expect(console.join('\n')).toMatch(/undefinedFunction is not defined/);
  });
});
