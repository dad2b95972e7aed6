import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PhysAddr } from './address.js';
import { PhysicalMemory } from './physical-memory.js';
import { thrownErrno } from './testing/thrown-errno.js';

const at = (value: number) => value as PhysAddr;

describe('PhysicalMemory', () => {
  it('faults (EFAULT) on a read of a page never written and never allocated', () => {
    const memory = new PhysicalMemory();
    expect(thrownErrno(() => memory.readU32(at(0x8000_0000)))).toBe('EFAULT');
    expect(thrownErrno(() => memory.read(at(0x1000), new Uint8Array(4)))).toBe('EFAULT');
    expect(memory.isBacked(at(0x8000_0000))).toBe(false);
  });

  it('names the first byte without memory in the fault', () => {
    const memory = new PhysicalMemory();
    expect(() => memory.readU32(at(0x1000))).toThrow(/0x1000$/);
    expect(() => memory.readU64(at(0x2000))).toThrow(/0x2000$/);
    memory.allocate(at(0x8000_0000), 0x2000);
    expect(() => memory.readU32(at(0x8000_1ffe))).toThrow(/0x80002000$/);
  });

  it('reads allocated RAM as zeros without populating it', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0x8000_0000), 0x4000_0000);
    expect(memory.readU32(at(0xbfff_fffc))).toBe(0);
    const bytes = new Uint8Array(8192).fill(0xaa);
    memory.read(at(0x8000_0800), bytes);
    expect(bytes.every((byte) => byte === 0)).toBe(true);
    expect(memory.populatedPages).toBe(0);
    expect(thrownErrno(() => memory.readU8(at(0xc000_0000)))).toBe('EFAULT');
  });

  it('keeps little-endian values, across page boundaries too', () => {
    const memory = new PhysicalMemory();
    memory.writeU32(at(0x1ffe), 0x1234_5678);
    expect(memory.readU16(at(0x1ffe))).toBe(0x5678);
    expect(memory.readU16(at(0x2000))).toBe(0x1234);
    expect(memory.readU8(at(0x1ffe))).toBe(0x78);
    memory.writeU64(at(0x2ffc), 0x0102_0304_0506_0708n);
    expect(memory.readU64(at(0x2ffc))).toBe(0x0102_0304_0506_0708n);
    expect(memory.readU32(at(0x3000))).toBe(0x0102_0304);
    memory.writeU64(at(0x5000), 0xffff_ffff_ffff_ffffn);
    expect(memory.readU64(at(0x5000))).toBe(0xffff_ffff_ffff_ffffn);
    expect(memory.populatedPages).toBe(4);
  });

  it('refuses values that do not fit and ranges past the address space', () => {
    const memory = new PhysicalMemory({ addressBits: 40 });
    expect(thrownErrno(() => memory.writeU8(at(0), 256))).toBe('EINVAL');
    expect(thrownErrno(() => memory.writeU32(at(0), -1))).toBe('EINVAL');
    expect(thrownErrno(() => memory.writeU64(at(0), 2n ** 64n))).toBe('EINVAL');
    expect(thrownErrno(() => memory.writeU32(at(2 ** 40 - 2), 0))).toBe('EFAULT');
    expect(thrownErrno(() => memory.allocate(at(2 ** 40), 0x1000))).toBe('EFAULT');
    expect(thrownErrno(() => new PhysicalMemory({ addressBits: 64 }))).toBe('EINVAL');
  });

  it('allocates whole pages only, and never the same page twice (EEXIST)', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0x10_0000), 0x10_0000);
    memory.allocate(at(0x30_0000), 0x1000);
    expect(thrownErrno(() => memory.allocate(at(0x1f_f000), 0x2000))).toBe('EEXIST');
    expect(thrownErrno(() => memory.allocate(at(0x0f_f000), 0x2000))).toBe('EEXIST');
    expect(thrownErrno(() => memory.allocate(at(0x20_0800), 0x1000))).toBe('EINVAL');
    expect(thrownErrno(() => memory.allocate(at(0x20_0000), 0))).toBe('EINVAL');
    memory.allocate(at(0x20_0000), 0x10_0000);
    expect(memory.isBacked(at(0x2f_ffff))).toBe(true);
  });

  it('behaves as a byte map, and uses storage only for pages written (property)', () => {
    const space = 1 << 20;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        address: fc.nat(space - 64),
        data: fc.uint8Array({ maxLength: 64 }),
      }),
      fc.record({ kind: fc.constant('read' as const), address: fc.nat(space - 64), length: fc.nat(64) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const memory = new PhysicalMemory();
        const reference = new Map<number, number>();
        for (const step of ops) {
          if (step.kind === 'write') {
            memory.write(at(step.address), step.data);
            for (const [i, byte] of step.data.entries()) reference.set(step.address + i, byte);
            continue;
          }
          const pages = new Set(Array.from({ length: step.length }, (_, i) => (step.address + i) >>> 12));
          const backed = [...pages].every((page) => [...reference.keys()].some((key) => key >>> 12 === page));
          const into = new Uint8Array(step.length);
          if (!backed) {
            expect(thrownErrno(() => memory.read(at(step.address), into))).toBe('EFAULT');
            continue;
          }
          memory.read(at(step.address), into);
          for (const [i, byte] of into.entries()) expect(byte).toBe(reference.get(step.address + i) ?? 0);
        }
        expect(memory.populatedPages).toBe(new Set([...reference.keys()].map((key) => key >>> 12)).size);
      }),
    );
  });
});
