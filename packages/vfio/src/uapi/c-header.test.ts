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
import type { ArraySpec, FieldSpec, KernelVersion } from './layout.js';
import { UAPI_CODECS, UAPI_CONSTANTS, UAPI_STRING_CONSTANTS } from './records.js';

// Compares the codec with real <linux/vfio.h> headers, in both directions:
// - every object-like #define and every struct member the HEADER has must be in the codec
//   (enumerated from the header's text, so a symbol the codec lacks fails the test);
// - every constant, struct size, member offset and size the two share must agree (measured by
//   compiling a C program against the header with gcc).
// Headers: the system's (linux-libc-dev) and Linux 6.12's, extracted once from Debian's
// linux-source-6.12 tarball into node_modules/.cache/vfiokit. Each is skipped with a console
// message when it or gcc is missing.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const CACHE = join(root, 'node_modules', '.cache', 'vfiokit', 'linux-6.12');

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// tar reads the whole xz stream (~10 s) once; later runs use the cached copy.
function linux612Header(): string | undefined {
  const target = join(CACHE, 'vfio.h');
  if (existsSync(target)) return target;
  if (!existsSync(TARBALL)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vfio-612-'));
  try {
    const member = 'linux-source-6.12/include/uapi/linux/vfio.h';
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

// --- what a header declares, from its text ---------------------------------------------------

interface HeaderMember {
  readonly path: string;
  readonly array: boolean;
}

/** Object-like #defines (not include guards) and struct members, nested structs and unions flattened. */
export function headerSymbols(source: string): { defines: string[]; structs: Map<string, HeaderMember[]> } {
  const text = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/\\\n/g, ' ');
  const defines = [...text.matchAll(/^#define\s+(\w+)([ \t(]?)(.*)$/gm)]
    .filter((m) => m[2] !== '(' && (m[3] ?? '').trim() !== '' && !(m[1] ?? '_').startsWith('_'))
    .map((m) => m[1] ?? '');
  const bodies = new Map<string, string>();
  for (const m of text.matchAll(/^struct (\w+) \{([\s\S]*?)^\};/gm)) bodies.set(m[1] ?? '', m[2] ?? '');
  const flatten = (body: string, prefix: string): HeaderMember[] => {
    const decls = body
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join(' ')
      .replace(/union\s*\{/g, '')
      .replace(/\}\s*;/g, ';')
      .split(';')
      .map((d) => d.trim().replace(/\s+/g, ' '))
      .filter((d) => d !== '');
    return decls.flatMap((decl) => {
      const m = /^(struct \w+|\w+)( __user)? ?(\*?) ?(\w+) ?(\[\w*\])?$/.exec(decl);
      if (m === null) throw new TypeError(`unparsed member: ${decl}`);
      const [, type = '', , pointer, name = '', array] = m;
      const path = `${prefix}${name}`;
      if (type.startsWith('struct ') && pointer === '' && array === undefined)
        return flatten(bodies.get(type.slice(7)) ?? '', `${path}.`);
      return [{ path, array: array !== undefined }];
    });
  };
  const structs = new Map<string, HeaderMember[]>();
  for (const [name, body] of bodies) structs.set(name, flatten(body, ''));
  return { defines, structs };
}

// The hand-written capability codecs flatten `struct vfio_info_cap_header header` as id/version/next.
const HEADER_ALIASES: Readonly<Record<string, string>> = {
  'header.id': 'id',
  'header.version': 'version',
  'header.next': 'next',
};

type AnyCodec = {
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly arrays: Readonly<Record<string, ArraySpec>>;
};

function codecName(codec: AnyCodec, path: string): string | undefined {
  if (path in codec.fields || path in codec.arrays) return path;
  const alias = HEADER_ALIASES[path];
  return alias !== undefined && alias in codec.fields ? alias : undefined;
}

/** The header symbols a codec does not record. */
export function missingSymbols(
  source: string,
  constants: Readonly<Record<string, unknown>>,
  codecs: Readonly<Record<string, AnyCodec>>,
): string[] {
  const { defines, structs } = headerSymbols(source);
  const missing = defines.filter((d) => !(d in constants));
  for (const [name, members] of structs) {
    const codec = codecs[name];
    if (codec === undefined) missing.push(`struct ${name}`);
    else
      for (const m of members)
        if (codecName(codec, m.path) === undefined) missing.push(`struct ${name}.${m.path}`);
  }
  return missing;
}

// --- measure the header with gcc -------------------------------------------------------------

function measure(header: string): string[] {
  const { defines, structs } = headerSymbols(readFileSync(header, 'utf8'));
  const lines = ['#include <stdio.h>', '#include <stddef.h>', `#include "${header}"`, 'int main(void) {'];
  for (const d of defines) {
    if (d in UAPI_STRING_CONSTANTS) lines.push(`  printf("str ${d} %s\\n", ${d});`);
    else lines.push(`  printf("const ${d} %lld\\n", (long long)(${d}));`);
  }
  for (const [name, members] of structs) {
    lines.push(`  printf("size ${name} %zu\\n", sizeof(struct ${name}));`);
    for (const m of members) {
      const el = m.array ? `${m.path}[0]` : m.path;
      lines.push(
        `  printf("member ${name} ${m.path} %zu %zu\\n", offsetof(struct ${name}, ${m.path}), sizeof(((struct ${name} *)0)->${el}));`,
      );
    }
  }
  lines.push('  return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'vfio-uapi-'));
  try {
    writeFileSync(join(dir, 'uapi.c'), lines.join('\n'));
    execFileSync('gcc', ['-std=gnu11', '-D__user=', '-o', join(dir, 'uapi'), join(dir, 'uapi.c')]);
    return execFileSync(join(dir, 'uapi'), { encoding: 'utf8' }).trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function versionOf(header: string): KernelVersion {
  if (header.startsWith(CACHE)) return [6, 12];
  const code = /LINUX_VERSION_CODE (\d+)/.exec(readFileSync('/usr/include/linux/version.h', 'utf8'))?.[1];
  const n = Number(code ?? 0);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff];
}

const gcc = hasGcc();
const sources: Array<[string, string | undefined]> = [
  [
    'the system <linux/vfio.h>',
    existsSync('/usr/include/linux/vfio.h') ? '/usr/include/linux/vfio.h' : undefined,
  ],
  ['Linux 6.12 <linux/vfio.h>', gcc ? linux612Header() : undefined],
];

describe('missingSymbols (the test must fail when the codec lacks a header symbol)', () => {
  const sample = '#define VFIO_A 1\nstruct vfio_x {\n\t__u32 argsz;\n\t__u8 data[];\n};\n';
  it('reports a #define, a struct, a field and a flexible array the codec lacks', () => {
    const codec = { fields: { argsz: { type: 'u32', offset: 0, size: 4 } as FieldSpec }, arrays: {} };
    expect(missingSymbols(sample, {}, {})).toEqual(['VFIO_A', 'struct vfio_x']);
    expect(missingSymbols(sample, { VFIO_A: 1 }, { vfio_x: codec })).toEqual(['struct vfio_x.data']);
  });
});

for (const [label, header] of sources) {
  if (!gcc || header === undefined) {
    console.warn(
      `[vfio] C-header comparison with ${label} SKIPPED: ${gcc ? 'header missing' : 'gcc missing'} (install gcc, linux-libc-dev and linux-source-6.12)`,
    );
    continue;
  }
  describe(`UAPI against ${label}`, () => {
    const source = readFileSync(header, 'utf8');
    const output = measure(header);
    const version = versionOf(header);
    const atLeast = (since: KernelVersion | undefined): boolean =>
      since === undefined || version[0] > since[0] || (version[0] === since[0] && version[1] >= since[1]);

    it('records every #define and every struct member of the header', () => {
      expect(missingSymbols(source, { ...UAPI_CONSTANTS, ...UAPI_STRING_CONSTANTS }, UAPI_CODECS)).toEqual(
        [],
      );
    });

    it('has the same constant values', () => {
      for (const line of output) {
        const [kind, name = '', ...rest] = line.split(' ');
        if (kind === 'const') expect([name, UAPI_CONSTANTS[name]]).toEqual([name, Number(rest[0])]);
        if (kind === 'str') expect([name, UAPI_STRING_CONSTANTS[name]]).toEqual([name, rest.join(' ')]);
      }
    });

    it('has the same struct sizes, member offsets and member sizes', () => {
      for (const line of output) {
        const [kind, struct = '', a = '', b = '', c = ''] = line.split(' ');
        const codec = UAPI_CODECS[struct];
        if (codec === undefined) continue;
        if (kind === 'size') {
          const current = Object.values(codec.fields).every((f) => atLeast(f.since));
          expect([struct, Number(a)]).toEqual([
            struct,
            current ? codec.size : (codec.legacySize ?? codec.size),
          ]);
        }
        if (kind !== 'member') continue;
        const name = codecName(codec, a) ?? a;
        const field = codec.fields[name];
        const array = codec.arrays[name];
        const got = field !== undefined ? [field.offset, field.size] : [array?.offset, array?.elementSize];
        expect([`${struct}.${a}`, got]).toEqual([`${struct}.${a}`, [Number(b), Number(c)]]);
      }
    });

    // The codec transcribes Linux 6.12 and later; an older header lacks newer members.
    it.skipIf(!atLeast([6, 12]))('declares every codec field (headers from Linux 6.12 on)', () => {
      const { structs } = headerSymbols(source);
      for (const [name, codec] of Object.entries(UAPI_CODECS)) {
        const members = structs.get(name);
        if (members === undefined) continue; // a struct newer than this header
        const paths = new Set(members.map((m) => codecName(codec, m.path)));
        for (const [field, spec] of Object.entries(codec.fields))
          if (atLeast(spec.since)) expect([name, field, paths.has(field)]).toEqual([name, field, true]);
      }
    });
  });
}
