import { type AccessSize, KernelError, type MmioDevice } from '@vfiokit/core';

/** One access a {@link RegisterFile} saw. */
export interface RegisterAccess {
  readonly op: 'read' | 'write';
  readonly offset: number;
  readonly size: AccessSize;
  readonly value: number;
}

/** A plain RAM-like register block that records every access, for region read/write tests. */
export class RegisterFile implements MmioDevice {
  readonly name: string;
  readonly size: number;
  readonly accesses: RegisterAccess[] = [];
  private readonly bytes: Uint8Array;

  constructor(size: number, name = 'regs') {
    this.name = name;
    this.size = size;
    this.bytes = new Uint8Array(size);
  }

  read(offset: number, size: AccessSize): number {
    this.check(offset, size);
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + (this.bytes[offset + i] ?? 0);
    this.accesses.push({ op: 'read', offset, size, value });
    return value;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.check(offset, size);
    let rest = value;
    for (let i = 0; i < size; i++) {
      this.bytes[offset + i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
    this.accesses.push({ op: 'write', offset, size, value });
  }

  private check(offset: number, size: AccessSize): void {
    if (offset < 0 || offset + size > this.size)
      throw new KernelError('EFAULT', `${this.name}: access at ${offset} outside ${this.size}`);
  }
}
