import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IOMMUFD_CONSTANTS } from './constants.js';
import { IOMMUFD_STRUCTS, type IommufdStruct } from './structs.js';

// Compares the codec with Linux 6.12's real <linux/iommufd.h> (the oracle's kernel): every
// modelled constant, struct size, member offset and member size, measured by compiling a C
// program against the header with gcc; and every struct the header declares for the ioctls
// the model serves must list exactly the header's members. The header comes from Debian's
// linux-source-6.12 tarball (what CI installs), extracted once into node_modules/.cache, or
// from an unpacked 6.12 tree in VFIOKIT_LINUX_612 / the oracle's cache. Skipped VISIBLY when
// gcc or the header is missing.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const CACHE = join(root, 'node_modules', '.cache', 'vfiokit', 'linux-6.12');
const MEMBER = 'include/uapi/linux/iommufd.h';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function header612(): string | undefined {
  const target = join(CACHE, 'iommufd.h');
  if (existsSync(target)) return target;
  const home = process.env.HOME ?? '/root';
  for (const tree of [
    process.env.VFIOKIT_LINUX_612,
    join(home, '.cache/vfiokit-oracle/src-6.12.118-1_deb12u1'),
  ]) {
    if (tree !== undefined && existsSync(join(tree, MEMBER))) return join(tree, MEMBER);
  }
  if (!existsSync(TARBALL)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'iommufd-612-'));
  try {
    const member = `linux-source-6.12/${MEMBER}`;
    execFileSync('tar', ['-xJf', TARBALL, '-C', dir, member]);
    mkdirSync(CACHE, { recursive: true });
    copyFileSync(join(dir, member), target);
    return target;
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The members the header declares for `struct name`, in order (arrays as `name[]`). */
export function headerMembers(source: string, name: string): string[] | undefined {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '');
  const body = new RegExp(`^struct ${name} \\{([\\s\\S]*?)^\\};`, 'm').exec(text)?.[1];
  if (body === undefined) return undefined;
  return body
    .split(';')
    .map((d) => d.trim().replace(/\s+/g, ' '))
    .filter((d) => d !== '')
    .map((d) => {
      const m = /(\w+)\s*(\[\w*\])?$/.exec(d);
      return `${m?.[1] ?? d}${m?.[2] === undefined ? '' : '[]'}`;
    });
}

function codecMembers(s: IommufdStruct): string[] {
  return Object.entries(s.fields)
    .sort((a, b) => a[1].offset - b[1].offset)
    .map(([k, f]) => (f.count === undefined ? k : `${k}[]`));
}

function measure(header: string): Map<string, number> {
  const lines = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <linux/types.h>',
    `#include "${header}"`,
    'int main(void) {',
  ];
  for (const name of Object.keys(IOMMUFD_CONSTANTS))
    lines.push(`  printf("${name} %lld\\n", (long long)(${name}));`);
  for (const s of Object.values(IOMMUFD_STRUCTS)) {
    lines.push(`  printf("sizeof ${s.name} %zu\\n", sizeof(struct ${s.name}));`);
    for (const [field, spec] of Object.entries(s.fields)) {
      const el = spec.count === undefined ? field : `${field}[0]`;
      lines.push(`  printf("offsetof ${s.name}.${field} %zu\\n", offsetof(struct ${s.name}, ${field}));`);
      lines.push(`  printf("sizeof ${s.name}.${field} %zu\\n", sizeof(((struct ${s.name} *)0)->${el}));`);
    }
  }
  lines.push('  return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'iommufd-uapi-'));
  try {
    writeFileSync(join(dir, 'uapi.c'), lines.join('\n'));
    execFileSync('gcc', ['-std=gnu11', '-o', join(dir, 'uapi'), join(dir, 'uapi.c')]);
    const out = execFileSync(join(dir, 'uapi'), { encoding: 'utf8' }).trim().split('\n');
    return new Map(out.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('headerMembers (the comparison must be able to fail)', () => {
  it('lists members in order, arrays marked, comments ignored', () => {
    const src = 'struct iommu_x {\n\t__u32 size; /* c */\n\t__u8 __reserved[3];\n\t__aligned_u64 v;\n};\n';
    expect(headerMembers(src, 'iommu_x')).toEqual(['size', '__reserved[]', 'v']);
    expect(headerMembers(src, 'iommu_y')).toBeUndefined();
  });
});

const gcc = hasGcc();
const header = gcc ? header612() : undefined;
if (header === undefined) {
  console.warn(
    `[iommufd] C-header comparison with Linux 6.12 <linux/iommufd.h> SKIPPED: ${gcc ? 'header missing' : 'gcc missing'} (install gcc and linux-source-6.12)`,
  );
} else {
  describe('UAPI against Linux 6.12 <linux/iommufd.h>', () => {
    const source = readFileSync(header, 'utf8');
    const measured = measure(header);
    it.each(Object.keys(IOMMUFD_CONSTANTS))('%s', (name) => {
      expect(IOMMUFD_CONSTANTS[name]).toBe(measured.get(name));
    });
    it.each(Object.values(IOMMUFD_STRUCTS).map((s) => [s.name, s] as const))('struct %s', (_name, s) => {
      expect(codecMembers(s)).toEqual(headerMembers(source, s.name));
      expect(s.size).toBe(measured.get(`sizeof ${s.name}`));
      for (const [field, spec] of Object.entries(s.fields)) {
        expect(spec.offset, `${s.name}.${field} offset`).toBe(measured.get(`offsetof ${s.name}.${field}`));
        expect(spec.size, `${s.name}.${field} size`).toBe(measured.get(`sizeof ${s.name}.${field}`));
      }
    });
  });
}
