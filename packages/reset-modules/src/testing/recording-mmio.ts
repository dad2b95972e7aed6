import type { AccessSize, MmioDevice, ResetTarget } from '@vfiokit/core';

/** One register access seen by a {@link RecordingMmio}. */
export interface MmioAccess {
  readonly region: number;
  readonly op: 'read' | 'write';
  readonly offset: number;
  readonly size: AccessSize;
  readonly value: number;
}

/** An MmioDevice that forwards to `inner` and appends every access to a shared log. */
export class RecordingMmio implements MmioDevice {
  readonly name: string;
  readonly size: number;

  constructor(
    private readonly inner: MmioDevice,
    private readonly region: number,
    private readonly log: MmioAccess[],
  ) {
    this.name = inner.name;
    this.size = inner.size;
  }

  read(offset: number, size: AccessSize): number {
    const value = this.inner.read(offset, size);
    this.log.push({ region: this.region, op: 'read', offset, size, value });
    return value;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.log.push({ region: this.region, op: 'write', offset, size, value });
    this.inner.write(offset, size, value);
  }
}

/** `target` with every region recorded; `log` fills as the module runs; delays appear as `delay` entries. */
export function recordTarget(target: ResetTarget): {
  readonly target: ResetTarget;
  readonly log: (MmioAccess | { readonly op: 'delay'; readonly microseconds: number })[];
} {
  const log: (MmioAccess | { readonly op: 'delay'; readonly microseconds: number })[] = [];
  const accesses = log as MmioAccess[];
  return {
    log,
    target: {
      name: target.name,
      compatible: target.compatible,
      regions: target.regions.map((r, i) => new RecordingMmio(r, i, accesses)),
      delay: (microseconds) => {
        log.push({ op: 'delay', microseconds });
        target.delay(microseconds);
      },
    },
  };
}
