import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { AmdXgbeModel } from '../models/amd-xgbe.js';
import { dmaSandbox } from '../testing/dma-sandbox.js';
import { modelTarget } from '../testing/model-target.js';
import { recordTarget } from '../testing/recording-mmio.js';
import { createAmdXgbeReset } from './amd-xgbe-reset.js';

const device = { name: 'e0700000.xgmac', compatible: ['amd,xgbe-seattle-v1a'] };
const w = (region: number, offset: number, value: number) => ({
  region,
  op: 'write',
  offset,
  size: 4,
  value,
});
const r = (region: number, offset: number, value: number) => ({ region, op: 'read', offset, size: 4, value });
const d = (microseconds: number) => ({ op: 'delay', microseconds });

describe('amdXgbeReset (drivers/vfio/platform/reset/vfio_platform_amdxgbe.c)', () => {
  it('issues the kernel sequence: PCS reset + 20 ms polls, AN off, AN IRQ masked and cleared, DMA_MR.SWR + polls', () => {
    // PHY reset done within the first msleep(20); MAC SW reset done within the first usleep_range(500, 600).
    const model = new AmdXgbeModel({
      dma: dmaSandbox().dma,
      phyResetMicroseconds: 1000,
      swResetMicroseconds: 100,
    });
    model.regions[0]?.write(0x3000, 4, 0x10); // a DMA_MR the last owner set
    const warnings: string[] = [];
    const { target, log } = recordTarget(modelTarget(model, device));
    createAmdXgbeReset({ warn: (m) => warnings.push(m) })(target);
    expect(log).toEqual([
      // xmdio_read(PCS, CTRL1): select (3 << 16 | 0) >> 8, read window (0 & 0xff) << 2
      w(1, 0x3fc, 0x300),
      r(1, 0x000, 0x2040),
      // xmdio_write(PCS, CTRL1, pcs | MDIO_CTRL1_RESET)
      w(1, 0x3fc, 0x300),
      w(1, 0x000, 0xa040),
      // do { msleep(20); read } while (reset && --count)
      d(20_000),
      w(1, 0x3fc, 0x300),
      r(1, 0x000, 0x2040),
      // AN (MMD 7) CTRL1 &= ~MDIO_AN_CTRL1_ENABLE
      w(1, 0x3fc, 0x700),
      r(1, 0x000, 0x1000),
      w(1, 0x3fc, 0x700),
      w(1, 0x000, 0x0000),
      // MDIO_AN_INTMASK (0x8001) ← 0, MDIO_AN_INT (0x8002) ← 0
      w(1, 0x3fc, 0x780),
      w(1, 0x004, 0),
      w(1, 0x3fc, 0x780),
      w(1, 0x008, 0),
      // DMA_MR |= 1; usleep_range(10, 15); while (--count && DMA_MR & 1) usleep_range(500, 600)
      r(0, 0x3000, 0x10),
      w(0, 0x3000, 0x11),
      d(10),
      r(0, 0x3000, 0x11),
      d(500),
      // the software reset returned DMA_MR to power-on
      r(0, 0x3000, 0x0),
    ]);
    expect(warnings).toEqual([]);
  });

  it('a PHY and a MAC that never finish: the kernel warns twice and still returns 0, after 50 and 1999 polls', () => {
    const model = new AmdXgbeModel({
      dma: dmaSandbox().dma,
      phyResetMicroseconds: Number.POSITIVE_INFINITY,
      swResetMicroseconds: Number.POSITIVE_INFINITY,
    });
    const warnings: string[] = [];
    const target = modelTarget(model, device);
    const { target: recorded, log } = recordTarget(target);
    createAmdXgbeReset({ warn: (m) => warnings.push(m) })(recorded);
    expect(warnings).toEqual([
      'e0700000.xgmac: vfio_platform_amdxgbe_reset: XGBE PHY reset timeout',
      'e0700000.xgmac: vfio_platform_amdxgbe_reset: MAC SW reset failed',
    ]);
    const polls = (region: number, offset: number) =>
      log.filter((e) => e.op === 'read' && e.region === region && e.offset === offset).length;
    expect(polls(1, 0x000)).toBe(1 + 50 + 1); // first read, 50 polls, then the AN CTRL1 read
    expect(polls(0, 0x3000)).toBe(1 + 1999);
    expect(target.elapsedMicroseconds).toBe(50 * 20_000 + 10 + 1999 * 500);
  });

  it('with onTimeout "fail" the same stuck device makes the reset fail with ETIMEDOUT', () => {
    const model = new AmdXgbeModel({ dma: dmaSandbox().dma, swResetMicroseconds: Number.POSITIVE_INFINITY });
    let error: unknown;
    try {
      createAmdXgbeReset({ onTimeout: 'fail', warn: () => {} })(modelTarget(model, device));
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'ETIMEDOUT')).toBe(true);
    expect((error as Error).message).toContain('MAC SW reset failed');
  });

  it('a device with only the XGMAC region cannot be reset (ENOMEM: regions[1] cannot be mapped)', () => {
    let error: unknown;
    try {
      createAmdXgbeReset({ warn: () => {} })({
        ...device,
        regions: [new AmdXgbeModel({ dma: dmaSandbox().dma }).regions[0]!],
        delay: () => {},
      });
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'ENOMEM')).toBe(true);
    expect((error as Error).message).toBe('ENOMEM: e0700000.xgmac: region 1 cannot be mapped');
  });
});
