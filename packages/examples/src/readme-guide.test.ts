// A second custom reset module, written only from "Writing your own module" in
// packages/reset-modules/README.md (the issue's check "a custom module written from the README
// alone"): a tiny copy engine, `acme,tiny-copy`, its reset, registration, and the proof.
import {
  type AccessSize,
  type DmaPort,
  iova,
  KernelError,
  type MmioDevice,
  type ResetHandler,
} from '@vfiokit/core';
import { type DeviceModel, IrqLines, type IrqSink, modprobe, ResetRegistry } from '@vfiokit/reset-modules';
import {
  assertQuiescence,
  dmaSandbox,
  modelTarget,
  type QuiescenceAction,
  type QuiescenceSpec,
  type QuiescenceWorld,
  quiescenceProperty,
  registerWrites,
  SANDBOX_IOVA,
  tickAction,
} from '@vfiokit/reset-modules/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SRC = 0x0;
const DST = 0x4;
const LEN = 0x8;
const CTRL = 0xc; // bit 0 START, bit 1 IRQ_EN
const STATUS = 0x10; // bit 0 DONE (write 1 to clear)
const RESET = 0x14; // bit 0: self-clearing soft reset, takes 2 µs

// Step 1: the device model — MmioDevice + DeviceModel, bus mastering only through a DmaPort.
class TinyCopy implements MmioDevice, DeviceModel {
  readonly name = 'tiny-copy';
  readonly size = 0x100;
  readonly regions: readonly MmioDevice[] = [this];
  private regs = new Uint32Array(6);
  private resetLeft = 0;
  private readonly byte = new Uint8Array(1);
  // Its one interrupt output, driven from the registers after every change.
  private readonly irq = new IrqLines(() => [['irq', this.irqAsserted()]]);

  constructor(private readonly dma: DmaPort) {}

  connectIrq(sink: IrqSink): void {
    this.irq.connect(sink);
  }

  read(offset: number, _size: AccessSize): number {
    return this.regs[offset / 4] ?? 0;
  }

  write(offset: number, _size: AccessSize, value: number): void {
    if (offset === STATUS) this.regs[4] = (this.regs[4] ?? 0) & ~value;
    else if (offset === RESET && (value & 1) !== 0) this.resetLeft = 2;
    else if (offset < RESET) this.regs[offset / 4] = value;
    if (this.resetLeft > 0) this.regs[5] = 1;
    this.irq.update();
  }

  tick(microseconds: number): void {
    this.run(microseconds);
    this.irq.update();
  }

  private run(microseconds: number): void {
    for (let t = 0; t < microseconds; t++) {
      if (this.resetLeft > 0 && --this.resetLeft === 0) this.hardwareReset();
      if (!this.dmaActive()) continue;
      // One byte per microsecond: SRC → DST.
      const src = this.regs[0] ?? 0;
      const dst = this.regs[1] ?? 0;
      if (this.dma.read(iova(src), this.byte) !== null || this.dma.write(iova(dst), this.byte) !== null) {
        this.regs[3] = 0;
        this.regs[4] = 1;
        continue;
      }
      this.regs[0] = src + 1;
      this.regs[1] = dst + 1;
      this.regs[2] = (this.regs[2] ?? 1) - 1;
      if (this.regs[2] === 0) {
        this.regs[3] = (this.regs[3] ?? 0) & ~1;
        this.regs[4] = 1;
      }
    }
  }

  dmaActive(): boolean {
    return ((this.regs[3] ?? 0) & 1) !== 0 && (this.regs[2] ?? 0) > 0;
  }
  irqAsserted(): boolean {
    return this.interruptsEnabled() && this.interruptsPending();
  }
  interruptsEnabled(): boolean {
    return ((this.regs[3] ?? 0) & 2) !== 0;
  }
  interruptsPending(): boolean {
    return (this.regs[4] ?? 0) !== 0;
  }
  guestState(): ReadonlyMap<string, number> {
    return new Map(['SRC', 'DST', 'LEN', 'CTRL', 'STATUS', 'RESET'].map((n, i) => [n, this.regs[i] ?? 0]));
  }
  hardwareReset(): void {
    this.regs = new Uint32Array(6);
    this.resetLeft = 0;
    this.irq.update();
  }
}

// Step 2: the reset, one commented step per reason.
const POLLS = 10;
const tinyCopyReset: ResetHandler = (target) => {
  const regs = target.regions[0];
  if (regs === undefined) throw new KernelError('ENOMEM', `${target.name}: region 0 cannot be mapped`);
  regs.write(CTRL, 4, 0); // stop the engine, mask the interrupt
  regs.write(RESET, 4, 1); // back to power-on
  for (let polls = 0; (regs.read(RESET, 4) & 1) !== 0; polls++) {
    if (polls >= POLLS) throw new KernelError('ETIMEDOUT', `${target.name}: soft reset did not complete`);
    target.delay(1);
  }
  regs.write(STATUS, 4, 1); // clear latched status
};

// Step 4: the spec.
interface TinyWorld extends QuiescenceWorld {
  readonly model: TinyCopy;
}
const start = fc.integer({ min: 1, max: 64 }).map(
  (len): QuiescenceAction<TinyWorld> => ({
    run: ({ model }) => {
      model.write(SRC, 4, SANDBOX_IOVA);
      model.write(DST, 4, SANDBOX_IOVA + 0x100);
      model.write(LEN, 4, len);
      model.write(CTRL, 4, 3);
    },
    toString: () => `copy ${len} bytes`,
  }),
);
function tinySpec(reset: ResetHandler): QuiescenceSpec<TinyWorld> {
  return {
    device: { name: '20000000.copy', compatible: ['acme,tiny-copy'] },
    setup: () => {
      const sandbox = dmaSandbox();
      return { model: new TinyCopy(sandbox.dma), dma: sandbox.dma };
    },
    actions: fc.oneof(
      registerWrites<TinyWorld>(
        [
          { region: 0, offset: CTRL, name: 'CTRL' },
          { region: 0, offset: LEN, name: 'LEN' },
        ],
        [0x100],
      ),
      start,
      tickAction<TinyWorld>(),
    ),
    reset,
  };
}

describe('a module written from the README alone (acme,tiny-copy)', () => {
  it('step 3: registers through modprobe and resets the device at open', () => {
    const registry = new ResetRegistry({ mode: 'vfiokit' });
    const probe = modprobe(registry, [
      {
        compatible: 'acme,tiny-copy',
        reset: tinyCopyReset,
        owner: 'acme-tiny-copy',
        description: 'x',
        upstream: false,
      },
    ]);
    registry.setLoader(probe.loader);
    const info = { name: '20000000.copy', compatible: ['acme,tiny-copy'] };
    const reset = registry.getReset(info, { resetRequired: true });
    expect(reset.report.provider).toBe('reset-module');
    const sandbox = dmaSandbox();
    const device = new TinyCopy(sandbox.dma);
    device.write(SRC, 4, SANDBOX_IOVA);
    device.write(DST, 4, SANDBOX_IOVA + 0x100);
    device.write(LEN, 4, 100);
    device.write(CTRL, 4, 1);
    expect(device.dmaActive()).toBe(true);
    reset.callOnOpen(modelTarget(device, info));
    expect(device.dmaActive()).toBe(false);
    reset.release();
    probe.remove('acme-tiny-copy');
  });

  it('step 4: the quiescence property proves it (1,000 runs)', () => {
    assertQuiescence(tinySpec(tinyCopyReset));
  });

  it('step 5: a weak reset (CTRL ← 0 only) fails it', () => {
    const weak: ResetHandler = (target) => target.regions[0]?.write(CTRL, 4, 0);
    expect(fc.check(quiescenceProperty(tinySpec(weak))).failed).toBe(true);
  });
});
