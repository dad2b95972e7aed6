import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UAPI_CODECS, UAPI_CONSTANT_SINCE, UAPI_CONSTANTS } from './records.js';

// Compiles a C program against the system's <linux/vfio.h> (linux-libc-dev) and compares every
// constant, struct size, field offset and field size this module exports. Fields newer than
// the installed header (`since`) are compared only when the header is that new.

const HEADER = '/usr/include/linux/vfio.h';

function findCompiler(): string | undefined {
  for (const cc of ['gcc', 'cc']) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const compiler = findCompiler();
const missing = compiler === undefined ? 'gcc' : existsSync(HEADER) ? undefined : HEADER;
if (missing !== undefined) {
  console.warn(`[vfio] C-header comparison SKIPPED: ${missing} is missing (install gcc and linux-libc-dev)`);
}

// The cap structs embed `struct vfio_info_cap_header header`; the codec flattens it.
const HEADER_FIELDS = new Set(['id', 'version', 'next']);

function cPath(struct: string, field: string): string {
  return struct !== 'vfio_info_cap_header' && HEADER_FIELDS.has(field) ? `header.${field}` : field;
}

function program(): string {
  const lines = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <linux/version.h>',
    '#include <linux/vfio.h>',
    'int main(void) {',
    '  printf("version %d %d\\n", (LINUX_VERSION_CODE >> 16) & 0xff, (LINUX_VERSION_CODE >> 8) & 0xff);',
  ];
  for (const name of Object.keys(UAPI_CONSTANTS)) {
    lines.push(`#ifdef ${name}`, `  printf("const ${name} %lld\\n", (long long)(${name}));`, '#else');
    lines.push(`  printf("absent ${name}\\n");`, '#endif');
  }
  for (const [struct, codec] of Object.entries(UAPI_CODECS)) {
    lines.push(`  printf("size ${struct} %zu\\n", sizeof(struct ${struct}));`);
    for (const [name, spec] of Object.entries(codec.fields)) {
      const path = cPath(struct, name);
      const print = `  printf("field ${struct}.${name} %zu %zu\\n", offsetof(struct ${struct}, ${path}), sizeof(((struct ${struct} *)0)->${path}));`;
      if (spec.since === undefined) lines.push(print);
      else
        lines.push(
          `#if LINUX_VERSION_CODE >= KERNEL_VERSION(${spec.since[0]}, ${spec.since[1]}, 0)`,
          print,
          '#endif',
        );
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

function runProgram(cc: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-uapi-'));
  try {
    writeFileSync(join(dir, 'uapi.c'), program());
    execFileSync(cc, ['-std=gnu11', '-Wall', '-Werror', '-o', join(dir, 'uapi'), join(dir, 'uapi.c')]);
    return execFileSync(join(dir, 'uapi'), { encoding: 'utf8' }).trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(missing !== undefined)('UAPI against the system <linux/vfio.h>', () => {
  const output = missing === undefined && compiler !== undefined ? runProgram(compiler) : [];
  const [major, minor] = (output[0] ?? 'version 0 0').split(' ').slice(1).map(Number) as [number, number];
  const atLeast = (since: readonly [number, number]): boolean =>
    major > since[0] || (major === since[0] && minor >= since[1]);

  it('defines every exported constant with the same value', () => {
    const seen = new Map<string, number>();
    for (const line of output) {
      const [kind, name, value] = line.split(' ');
      if (kind === 'const' && name !== undefined) seen.set(name, Number(value));
      const since = name === undefined ? undefined : UAPI_CONSTANT_SINCE[name];
      if (kind === 'absent' && (since === undefined || atLeast(since)))
        expect.fail(`${name} is not defined by the installed <linux/vfio.h>`);
    }
    for (const [name, value] of Object.entries(UAPI_CONSTANTS)) {
      const since = UAPI_CONSTANT_SINCE[name];
      if (since !== undefined && !atLeast(since)) continue;
      expect([name, seen.get(name)]).toEqual([name, value]);
    }
  });

  it('has the same struct sizes, field offsets and field sizes', () => {
    const sizes = new Map<string, number>();
    const fields = new Map<string, [number, number]>();
    for (const line of output) {
      const [kind, name, a, b] = line.split(' ');
      if (kind === 'size' && name !== undefined) sizes.set(name, Number(a));
      if (kind === 'field' && name !== undefined) fields.set(name, [Number(a), Number(b)]);
    }
    for (const [struct, codec] of Object.entries(UAPI_CODECS)) {
      const allPresent = Object.values(codec.fields).every((f) => f.since === undefined || atLeast(f.since));
      const expected = allPresent ? codec.size : (codec.legacySize ?? codec.size);
      expect([struct, sizes.get(struct)]).toEqual([struct, expected]);
      for (const [name, spec] of Object.entries(codec.fields)) {
        if (spec.since !== undefined && !atLeast(spec.since)) continue;
        expect([`${struct}.${name}`, fields.get(`${struct}.${name}`)]).toEqual([
          `${struct}.${name}`,
          [spec.offset, spec.size],
        ]);
      }
    }
  });
});
