import { readPeriphid } from '@vfiokit/platform-bus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { FwCfgModel } from './fw-cfg.js';
import { PL011_ID, Pl011Model } from './pl011.js';
import { PL031_ID, Pl031Model } from './pl031.js';
import { PL061_ID, Pl061Model } from './pl061.js';
import { VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_VENDOR, VirtioMmioSlotModel } from './virtio-mmio.js';

function rtc(tickOffset = 0x1000) {
  const clock = new VirtualClock();
  const levels: boolean[] = [];
  const model = new Pl031Model({ clock, irq: (level) => levels.push(level), tickOffset });
  return { clock, levels, model };
}

const SECOND = 1_000_000_000;

describe('PrimeCell ID registers as QEMU decodes them', () => {
  it('give the periphids amba_read_periphid() reads (drivers/amba/bus.c)', () => {
    expect(readPeriphid(new Pl011Model(), 0x1000)).toBe(0x00141011);
    expect(readPeriphid(rtc().model, 0x1000)).toBe(0x00141031);
    expect(readPeriphid(new Pl061Model(), 0x1000)).toBe(0x00041061);
  });

  it('index the table by (offset - base) >> 2 for every access size (hw/rtc/pl031.c pl031_read)', () => {
    const models = [
      { model: new Pl011Model(), id: PL011_ID, base: 0xfe0 },
      { model: rtc().model, id: PL031_ID, base: 0xfe0 },
      { model: new Pl061Model(), id: PL061_ID, base: 0xfd0 },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...models),
        fc.integer({ min: 0, max: 47 }),
        fc.constantFrom(1 as const, 2 as const, 4 as const),
        ({ model, id, base }, index, size) => {
          const offset = base + index;
          if (offset + size > 0x1000 || index >= 4 * id.length) return;
          const mask = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
          expect(model.read(offset, size)).toBe((id[index >> 2] ?? 0) & mask);
        },
      ),
    );
  });
});

describe('PL031 RTC (QEMU hw/rtc/pl031.c)', () => {
  it('counts whole seconds of the clock from the load register', () => {
    const { clock, model } = rtc();
    expect(model.read(0x00, 4)).toBe(0x1000);
    clock.advance(SECOND - 1);
    expect(model.read(0x00, 4)).toBe(0x1000);
    clock.advance(1);
    expect(model.read(0x00, 4)).toBe(0x1001);
    model.write(0x08, 4, 0x5000);
    expect(model.read(0x00, 4)).toBe(0x5000);
    expect(model.read(0x08, 4)).toBe(0x5000);
    expect(model.read(0x0c, 4)).toBe(1); // permanently enabled
  });

  it('raises RIS at once when the match equals the count, and the line only while unmasked', () => {
    const { levels, model } = rtc();
    model.write(0x04, 4, 0x1000);
    expect(model.read(0x14, 4)).toBe(1);
    expect(model.read(0x18, 4)).toBe(0);
    expect(levels).toEqual([]);
    model.write(0x10, 4, 1);
    expect(model.read(0x18, 4)).toBe(1);
    expect(levels).toEqual([true]);
    model.write(0x1c, 4, 1);
    expect(model.read(0x14, 4)).toBe(0);
    expect(levels).toEqual([true, false]);
  });

  it('fires a future match after (MR - count) seconds, not before; a new MR re-arms', () => {
    const { clock, model } = rtc();
    model.write(0x10, 4, 1);
    model.write(0x04, 4, 0x1003);
    clock.advance(3 * SECOND - 1);
    expect(model.read(0x14, 4)).toBe(0);
    clock.advance(1);
    expect(model.read(0x14, 4)).toBe(1);
    model.write(0x1c, 4, 1);
    model.write(0x04, 4, 0x2000);
    model.write(0x04, 4, model.read(0x00, 4) + 1);
    clock.advance(SECOND);
    expect(model.irqLevel).toBe(true);
  });

  it('decodes exact offsets: an unaligned register access reads 0 and a write there is ignored', () => {
    const { model } = rtc();
    model.write(0x10, 4, 1);
    expect(model.read(0x11, 1)).toBe(0);
    model.write(0x11, 1, 0);
    expect(model.read(0x10, 4)).toBe(1);
    model.write(0x10, 1, 0); // a byte store at the register's offset is a store to it
    expect(model.read(0x10, 4)).toBe(0);
  });
});

describe('PL061 GPIO (QEMU hw/gpio/pl061.c)', () => {
  it('data writes reach output pins only, through the address mask', () => {
    const gpio = new Pl061Model();
    gpio.write(0x400, 4, 0x0f); // pins 0-3 out
    gpio.write(0x3fc, 4, 0xff);
    expect(gpio.read(0x3fc, 4)).toBe(0x0f);
    expect(gpio.read(0x004, 4)).toBe(0x01);
    gpio.write(0x008, 4, 0); // only pin 1 is addressed
    expect(gpio.read(0x3fc, 4)).toBe(0x0d);
  });

  it('a level-sensitive pin at its IEV level latches RIS; the line follows RIS & IE; IC clears only until the next update', () => {
    const levels: boolean[] = [];
    const gpio = new Pl061Model({ irq: (level) => levels.push(level) });
    gpio.write(0x404, 4, 0x01); // IS: pin 0 level-sensitive, IEV 0: low level, pin 0 reads 0
    expect(gpio.read(0x414, 4)).toBe(0x01);
    expect(levels).toEqual([]);
    gpio.write(0x410, 4, 0x01); // IE
    expect(gpio.read(0x418, 4)).toBe(0x01);
    expect(levels).toEqual([true]);
    gpio.write(0x41c, 4, 0x01); // IC: the still-active level latches it again
    expect(gpio.read(0x414, 4)).toBe(0x01);
    gpio.write(0x40c, 4, 0x01); // IEV high: pin 0 is low, no longer active
    gpio.write(0x41c, 4, 0x01);
    expect(gpio.read(0x414, 4)).toBe(0);
    expect(levels).toEqual([true, false]);
  });
});

describe('the other QEMU virt cells', () => {
  it('an empty virtio-mmio slot reads magic, version 1, vendor and device id 0', () => {
    const slot = new VirtioMmioSlotModel();
    expect([slot.read(0, 4), slot.read(4, 4), slot.read(8, 4), slot.read(0xc, 4)]).toEqual([
      VIRTIO_MMIO_MAGIC,
      1,
      0,
      VIRTIO_MMIO_VENDOR,
    ]);
  });

  it('fw-cfg streams the selected item and resets the offset on select', () => {
    const fw = new FwCfgModel();
    expect(fw.read(0, 4)).toBe(0x554d4551); // "QEMU" in memory order
    expect(fw.read(0, 4)).toBe(0);
    fw.write(8, 2, 0x0100); // big-endian key 1: FW_CFG_ID
    expect(fw.read(0, 1)).toBe(3);
    fw.write(8, 2, 0x0000);
    expect(fw.read(0, 2)).toBe(0x4551);
    expect(fw.read(0x10, 4)).toBe(0x554d4551);
  });

  it('fw-cfg lists the nine files of QEMU virt in FW_CFG_FILE_DIR (big-endian count, 64-byte entries)', () => {
    const fw = new FwCfgModel();
    fw.write(8, 2, 0x1900);
    expect(fw.read(0, 4)).toBe(0x09000000); // bytes 00 00 00 09
    expect(fw.read(0, 4)).toBe(0); // bios-geometry: size 0
    expect(fw.read(0, 4)).toBe(0x2000); // select 0x0020, reserved
    fw.write(8, 2, 0x0500); // NB_CPUS, a little-endian u16
    expect(fw.read(0, 2)).toBe(1);
  });

  it('PL011 reads QEMU reset values and keeps its plain registers', () => {
    const uart = new Pl011Model();
    expect(uart.read(0x18, 4)).toBe(0x90);
    expect(uart.read(0x30, 4)).toBe(0x300);
    uart.write(0x24, 4, 0x27);
    expect(uart.read(0x24, 4)).toBe(0x27);
  });
});

describe('VirtualClock', () => {
  it('fires timers in deadline order, never early, each once (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 10 }),
        (deadlines, steps) => {
          const clock = new VirtualClock();
          const fired: Array<{ at: number; now: number }> = [];
          for (const at of deadlines) clock.at(at, () => fired.push({ at, now: clock.nowNs }));
          for (const step of steps) clock.advance(step);
          // Timers already due fire at the next advance, never inside at() (as QEMU's timer_mod).
          clock.advance(0);
          const due = deadlines.filter((at) => at <= clock.nowNs).sort((a, b) => a - b);
          expect(fired.map((f) => f.at)).toEqual(due);
          for (const f of fired) expect(f.now).toBe(f.at);
        },
      ),
    );
  });
});
