// Generates src/uapi/generated-structs.ts and src/uapi/generated-constants.ts: every struct and
// object-like #define of a <linux/vfio.h> that the hand-written codec files do not already
// transcribe. Layouts are not computed here but measured: the script compiles a C program
// against the header (gcc, -D__user=) and prints offsetof/sizeof of every member.
// Usage: node packages/vfio/scripts/gen-uapi.mjs <path/to/include/uapi/linux/vfio.h>
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'src', 'uapi');
const header = process.argv[2];
if (header === undefined) throw new TypeError('usage: gen-uapi.mjs <vfio.h>');

const text = readFileSync(header, 'utf8')
  .replace(/\/\*[\s\S]*?\*\//g, '')
  .replace(/\/\/.*$/gm, '')
  .replace(/\\\n/g, ' ');

const handWritten = ['flags.ts', 'ioctls.ts', 'structs-device.ts', 'structs-iommu.ts', 'structs-irq.ts']
  .map((f) => readFileSync(join(src, f), 'utf8'))
  .join('\n');
const knownConstants = new Set([...handWritten.matchAll(/export const (\w+)/g)].map((m) => m[1]));
const knownStructs = new Set([...handWritten.matchAll(/new StructCodec\(\s*'(\w+)'/g)].map((m) => m[1]));

// --- structs -----------------------------------------------------------------------------
const SCALARS = { __u8: 'u8', __u16: 'u16', __u32: 'u32', __s32: 's32', __u64: 'u64', __aligned_u64: 'u64' };
const structs = new Map(); // name -> body text
for (const m of text.matchAll(/^struct (\w+) \{([\s\S]*?)^\};/gm)) structs.set(m[1], m[2]);

// Flattens a body into members: { path, kind: 'scalar' | 'array', type, count }.
function members(body, prefix) {
  const lines = body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const joined = lines.join(' ');
  const out = [];
  let rest = joined;
  while (rest.trim() !== '') {
    rest = rest.trim();
    if (rest.startsWith('union {')) {
      let depth = 0;
      let end = 0;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '{') depth++;
        if (rest[i] === '}') {
          depth--;
          if (depth === 0) {
            end = i;
            break;
          }
        }
      }
      // Anonymous union: its members share an offset; each records the union's first member.
      const inner = members(rest.slice(7, end), prefix);
      // (A union of one member, such as vfio_eeh_pe_op's `err`, overlaps nothing.)
      const direct = new Set(inner.map((m) => m.path.slice(prefix.length).split('.')[0]));
      const group = direct.size > 1 ? inner[0]?.path : undefined;
      out.push(...inner.map((m) => (group === undefined ? m : { ...m, union: group })));
      rest = rest.slice(end + 1).replace(/^\s*;/, '');
      continue;
    }
    const semi = rest.indexOf(';');
    const decl = rest.slice(0, semi).trim().replace(/\s+/g, ' ');
    rest = rest.slice(semi + 1);
    const m = /^(struct\s+\w+|\w+)(\s+__user)?\s*(\*?)\s*(\w+)\s*(\[(\w*)\])?$/.exec(decl);
    if (m === null) throw new TypeError(`cannot parse member "${decl}"`);
    const [, type, , pointer, name, array, count] = m;
    const path = `${prefix}${name}`;
    if (pointer === '*') {
      out.push({ path, kind: 'scalar', type: 'u64' });
    } else if (type.startsWith('struct ')) {
      const inner = type.slice(7).trim();
      if (array !== undefined)
        out.push({ path, kind: 'array', type: inner, count: count === '' ? 'flex' : count });
      else out.push(...members(structs.get(inner) ?? '', `${path}.`));
    } else {
      const scalar = SCALARS[type];
      if (scalar === undefined) throw new TypeError(`unknown type ${type} in ${decl}`);
      if (array !== undefined)
        out.push({ path, kind: 'array', type: scalar, count: count === '' ? 'flex' : count });
      else out.push({ path, kind: 'scalar', type: scalar });
    }
  }
  return out;
}

const layouts = [...structs.keys()].map((name) => ({ name, members: members(structs.get(name), '') }));

// --- constants ---------------------------------------------------------------------------
const defines = [...text.matchAll(/^#define\s+(\w+)(\(?)\s*(.*)$/gm)]
  .filter((m) => m[2] === '' && m[3].trim() !== '' && !m[1].startsWith('_'))
  .map((m) => ({ name: m[1], body: m[3].trim() }));

// --- measure with gcc ----------------------------------------------------------------------
const lines = ['#include <stdio.h>', '#include <stddef.h>', `#include "${header}"`, 'int main(void) {'];
for (const { name, body } of defines) {
  if (body.startsWith('"')) lines.push(`  printf("str ${name} %s\\n", ${name});`);
  else lines.push(`  printf("const ${name} %lld\\n", (long long)(${name}));`);
}
for (const { name, members: ms } of layouts) {
  lines.push(`  printf("size ${name} %zu\\n", sizeof(struct ${name}));`);
  for (const m of ms) {
    const el = m.kind === 'array' ? `${m.path}[0]` : m.path;
    lines.push(
      `  printf("field ${name} ${m.path} %zu %zu\\n", offsetof(struct ${name}, ${m.path}), sizeof(((struct ${name} *)0)->${el}));`,
    );
    if (m.kind === 'array' && m.count !== 'flex')
      lines.push(
        `  printf("count ${name} ${m.path} %zu\\n", sizeof(((struct ${name} *)0)->${m.path}) / sizeof(((struct ${name} *)0)->${el}));`,
      );
  }
}
lines.push('  return 0;', '}');
const dir = mkdtempSync(join(tmpdir(), 'gen-uapi-'));
let output;
try {
  writeFileSync(join(dir, 'm.c'), lines.join('\n'));
  execFileSync('gcc', ['-D__user=', '-o', join(dir, 'm'), join(dir, 'm.c')]);
  output = execFileSync(join(dir, 'm'), { encoding: 'utf8' }).trim().split('\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const sizes = new Map();
const fields = new Map();
const counts = new Map();
const consts = [];
for (const line of output) {
  const [kind, a, b, c, d] = line.split(' ');
  if (kind === 'size') sizes.set(a, Number(b));
  if (kind === 'field') fields.set(`${a} ${b}`, [Number(c), Number(d)]);
  if (kind === 'count') counts.set(`${a} ${b}`, Number(c));
  if (kind === 'const') consts.push([a, b]);
  if (kind === 'str') consts.push([a, JSON.stringify(line.slice(`str ${a} `.length))]);
}

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, ch) => ch.toUpperCase());
const out = [
  '// GENERATED by packages/vfio/scripts/gen-uapi.mjs from <linux/vfio.h> (Linux 6.12): every',
  '// struct the hand-written codec files do not transcribe, with offsets and sizes measured by gcc.',
  '// Scalars (including flattened nested structs and anonymous unions) are codec fields; arrays',
  '// (fixed and flexible) are recorded as array specs. Do not edit; re-run the script.',
  "import { StructCodec } from './layout.js';",
  '',
];
for (const { name, members: ms } of layouts) {
  if (knownStructs.has(name)) continue;
  const scalars = ms.filter((m) => m.kind === 'scalar');
  const arrays = ms.filter((m) => m.kind === 'array');
  const type = `{ ${scalars.map((m) => `'${m.path}': '${m.type}'`).join('; ')} }`;
  const fieldLines = scalars.map((m) => {
    const [offset] = fields.get(`${name} ${m.path}`);
    const union = m.union === undefined ? '' : `, union: '${m.union}'`;
    return `  '${m.path}': { type: '${m.type}', offset: ${offset}, size: ${fields.get(`${name} ${m.path}`)[1]}${union} },`;
  });
  const arrayLines = arrays.map((m) => {
    const [offset, elementSize] = fields.get(`${name} ${m.path}`);
    const count = m.count === 'flex' ? "'flex'" : counts.get(`${name} ${m.path}`);
    return `  '${m.path}': { element: '${m.type}', offset: ${offset}, elementSize: ${elementSize}, count: ${count} },`;
  });
  out.push(`/** \`struct ${name}\`. */`);
  out.push(
    `export const ${camel(name)}: StructCodec<${scalars.length === 0 ? 'Record<never, never>' : type}> = new StructCodec('${name}', ${sizes.get(name)}, {`,
  );
  out.push(...fieldLines);
  out.push(arrays.length === 0 ? '});' : '}, undefined, {');
  if (arrays.length > 0) out.push(...arrayLines, '});');
  out.push('');
}
writeFileSync(join(src, 'generated-structs.ts'), out.join('\n'));

const cOut = [
  '// GENERATED by packages/vfio/scripts/gen-uapi.mjs from <linux/vfio.h> (Linux 6.12): every',
  '// object-like #define the hand-written flags.ts / ioctls.ts do not transcribe, valued by gcc.',
  '// Do not edit; re-run the script.',
  '',
];
for (const [name, value] of consts) {
  if (knownConstants.has(name)) continue;
  cOut.push(`export const ${name}${value.startsWith('"') ? ': string' : ''} = ${value};`);
}
writeFileSync(join(src, 'generated-constants.ts'), `${cOut.join('\n')}\n`);
console.log(
  `generated ${layouts.filter((l) => !knownStructs.has(l.name)).length} structs, ${consts.filter(([n]) => !knownConstants.has(n)).length} constants`,
);
