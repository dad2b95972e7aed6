import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KVM_UAPI_CONSTANTS } from './constants.js';
import { KVM_UAPI_STRUCTS, type KvmStructSpec } from './struct.js';

// Compares the codec with the real arm64 <linux/kvm.h> (Linux 6.12): every constant and every
// struct member listed in constants.ts / struct.ts is printed by a C program compiled with gcc
// against the header, and must exist there (else the compile fails) with the same value,
// offset and size. The system's /usr/include/linux/kvm.h is x86's, so the arm64 headers are
// extracted once from Debian's linux-source-6.12 tarball into node_modules/.cache/vfiokit:
// include/uapi/linux/kvm.h as linux/kvm.h and arch/arm64/include/uapi/asm/* as asm/*, so
// that <asm/kvm.h> resolves to arm64's before the system's.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const CACHE = join(root, 'node_modules', '.cache', 'vfiokit', 'linux-6.12-arm64-kvm');

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// tar reads the whole xz stream (~30 s) once; later runs use the cached copy.
function arm64Headers(): string | undefined {
  if (existsSync(join(CACHE, 'linux', 'kvm.h')) && existsSync(join(CACHE, 'asm', 'kvm.h'))) return CACHE;
  if (!existsSync(TARBALL)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kvm-612-'));
  try {
    const top = 'linux-source-6.12';
    execFileSync('tar', [
      '-xJf',
      TARBALL,
      '-C',
      dir,
      `${top}/include/uapi/linux/kvm.h`,
      `${top}/arch/arm64/include/uapi/asm`,
    ]);
    mkdirSync(join(CACHE, 'linux'), { recursive: true });
    cpSync(join(dir, top, 'arch/arm64/include/uapi/asm'), join(CACHE, 'asm'), { recursive: true });
    // scripts/headers_install.sh deletes `#include <linux/compiler.h>` (not a UAPI header) when
    // it installs a header; do the same so the tarball's header compiles in user space.
    const kvm = readFileSync(join(dir, top, 'include/uapi/linux/kvm.h'), 'utf8');
    writeFileSync(
      join(CACHE, 'linux', 'kvm.h'),
      kvm.replace(/^#include <linux\/compiler(|_types)\.h>$/gm, ''),
    );
    return CACHE;
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The C program that prints every listed constant and struct member of the header. */
export function probeProgram(
  constants: Readonly<Record<string, number>>,
  structs: Readonly<Record<string, KvmStructSpec>>,
): string {
  const lines = ['#include <stdio.h>', '#include <stddef.h>', '#include <linux/kvm.h>', 'int main(void) {'];
  for (const name of Object.keys(constants))
    lines.push(`  printf("const ${name} %lld\\n", (long long)(${name}));`);
  for (const [name, spec] of Object.entries(structs)) {
    lines.push(`  printf("size ${name} %zu\\n", sizeof(struct ${name}));`);
    for (const path of Object.keys(spec.fields))
      lines.push(
        `  printf("member ${name} ${path} %zu %zu\\n", offsetof(struct ${name}, ${path}), sizeof(((struct ${name} *)0)->${path}));`,
      );
    for (const path of Object.keys(spec.arrays))
      lines.push(
        `  printf("array ${name} ${path} %zu %zu\\n", offsetof(struct ${name}, ${path}), sizeof(((struct ${name} *)0)->${path}[0]));`,
      );
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

/** Compiles and runs the probe; a listed symbol the header lacks makes gcc fail (thrown). */
export function measure(
  include: string,
  constants: Readonly<Record<string, number>>,
  structs: Readonly<Record<string, KvmStructSpec>>,
): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-uapi-'));
  try {
    writeFileSync(join(dir, 'uapi.c'), probeProgram(constants, structs));
    execFileSync(
      'gcc',
      // asm/kvm.h spells the GICv3 sizes with the kernel's SZ_64K (include/linux/sizes.h), which
      // user space lacks; define it as that header does.
      [
        '-std=gnu11',
        '-D__user=',
        '-DSZ_64K=0x00010000',
        '-I',
        include,
        '-o',
        join(dir, 'uapi'),
        join(dir, 'uapi.c'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return execFileSync(join(dir, 'uapi'), { encoding: 'utf8' }).trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The differences between the codec and the probe's output (empty when they agree). */
export function differences(
  output: readonly string[],
  constants: Readonly<Record<string, number>>,
  structs: Readonly<Record<string, KvmStructSpec>>,
): string[] {
  const diffs: string[] = [];
  for (const line of output) {
    const [kind, name = '', a = '', b = '', c = ''] = line.split(' ');
    if (kind === 'const' && constants[name] !== Number(a))
      diffs.push(`${name}: header ${a}, codec ${constants[name]}`);
    const spec = structs[name];
    if (spec === undefined) continue;
    if (kind === 'size' && spec.size !== Number(a))
      diffs.push(`sizeof ${name}: header ${a}, codec ${spec.size}`);
    if (kind === 'member') {
      const f = spec.fields[a];
      if (f?.offset !== Number(b) || f?.size !== Number(c))
        diffs.push(`${name}.${a}: header @${b}+${c}, codec @${f?.offset}+${f?.size}`);
    }
    if (kind === 'array') {
      const f = spec.arrays[a];
      if (f?.offset !== Number(b) || f?.elementSize !== Number(c))
        diffs.push(`${name}.${a}[]: header @${b}×${c}, codec @${f?.offset}×${f?.elementSize}`);
    }
  }
  return diffs;
}

const gcc = hasGcc();
const include = gcc ? arm64Headers() : undefined;

if (include === undefined) {
  it.skip(`[kvm] C-header comparison with arm64 <linux/kvm.h> SKIPPED: ${gcc ? `${TARBALL} missing` : 'gcc missing'}`, () => {});
  console.warn(
    `[kvm] C-header comparison with arm64 <linux/kvm.h> SKIPPED: ${gcc ? `${TARBALL} missing` : 'gcc missing'} (install gcc and linux-source-6.12)`,
  );
} else {
  describe('arm64 <linux/kvm.h> (Linux 6.12) against the codec', () => {
    const output = measure(include, KVM_UAPI_CONSTANTS, KVM_UAPI_STRUCTS);

    it('resolves <asm/kvm.h> to arm64 (KVM_ARM_IRQ_TYPE_SHIFT exists only there)', () => {
      expect(readFileSync(join(include, 'asm', 'kvm.h'), 'utf8')).toContain('KVM_ARM_IRQ_TYPE_SHIFT');
      expect(output).toContain('const KVM_ARM_IRQ_TYPE_SHIFT 24');
    });

    it('has every listed constant with the same value, every struct with the same layout', () => {
      expect(output.length).toBeGreaterThan(Object.keys(KVM_UAPI_CONSTANTS).length);
      expect(differences(output, KVM_UAPI_CONSTANTS, KVM_UAPI_STRUCTS)).toEqual([]);
    });

    it('fails when a listed constant differs (planted: KVM_IRQFD_FLAG_RESAMPLE = 4)', () => {
      const planted = { ...KVM_UAPI_CONSTANTS, KVM_IRQFD_FLAG_RESAMPLE: 4 };
      expect(differences(output, planted, KVM_UAPI_STRUCTS)).toEqual([
        'KVM_IRQFD_FLAG_RESAMPLE: header 2, codec 4',
      ]);
    });

    it('fails when a struct member differs (planted: kvm_irq_routing_entry.u at 12)', () => {
      const entry = KVM_UAPI_STRUCTS.kvm_irq_routing_entry;
      const planted = {
        ...KVM_UAPI_STRUCTS,
        kvm_irq_routing_entry: {
          ...entry,
          fields: { ...entry.fields, 'u.msi.devid': { offset: 24, size: 4 } },
        },
      } as const;
      expect(differences(output, KVM_UAPI_CONSTANTS, planted)).toEqual([
        'kvm_irq_routing_entry.u.msi.devid: header @28+4, codec @24+4',
      ]);
    });

    it('fails when a listed symbol is missing from the header (planted: KVM_IRQ_ROUTING_IRQCHIP_PPI, not in Linux)', () => {
      expect(() => measure(include, { KVM_IRQ_ROUTING_IRQCHIP_PPI: 3 }, {})).toThrow();
      expect(() =>
        measure(
          include,
          {},
          { kvm_irqfd: { size: 32, fields: { vcpu: { offset: 0, size: 4 } }, arrays: {} } },
        ),
      ).toThrow();
    });
  });
}
