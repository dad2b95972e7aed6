import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { FlexRmModel } from '../models/bcm-flexrm.js';
import { dmaSandbox } from '../testing/dma-sandbox.js';
import { modelTarget } from '../testing/model-target.js';
import { recordTarget } from '../testing/recording-mmio.js';
import { flexRmRequest } from '../testing/scenarios/bcm-flexrm.js';
import { bcmFlexrmResetModule, createBcmFlexrmReset, FLEXRM_FLUSH_POLLS } from './bcm-flexrm-reset.js';

const device = { name: '67000000.mailbox', compatible: ['brcm,iproc-flexrm-mbox'] };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('bcmFlexrmReset (drivers/vfio/platform/reset/vfio_platform_bcmflexrm.c)', () => {
  it('the kernel sequence, access for access: per ring window RING_VER; per "v001" ring CONTROL ← 0, ← FLUSH, poll FLUSH_DONE set (mdelay(1)), CONTROL ← 0, poll clear', () => {
    const sandbox = dmaSandbox();
    const model = new FlexRmModel({
      dma: sandbox.dma,
      ringWindows: 3,
      absentRings: [1],
      flushMicroseconds: 3,
    });
    const { target, log } = recordTarget(modelTarget(model, device));
    createBcmFlexrmReset({ warn: () => {} })(target);
    const trace = log.map((e) =>
      e.op === 'delay'
        ? `delay ${e.microseconds}`
        : `${e.op} 0x${e.offset.toString(16)}${e.op === 'write' ? ` = 0x${e.value.toString(16)}` : ''}`,
    );
    const ring = (base: number) => [
      `write 0x${(base + 0x34).toString(16)} = 0x0`,
      `write 0x${(base + 0x34).toString(16)} = 0x20`,
      `read 0x${(base + 0x38).toString(16)}`, // flush still running
      'delay 1000',
      `read 0x${(base + 0x38).toString(16)}`, // FLUSH_DONE
      `write 0x${(base + 0x34).toString(16)} = 0x0`,
      `read 0x${(base + 0x38).toString(16)}`, // still set
      'delay 1000',
      `read 0x${(base + 0x38).toString(16)}`, // cleared
    ];
    expect(trace).toEqual(['read 0x0', ...ring(0), 'read 0x10000', 'read 0x20000', ...ring(0x20000)]);
  });

  it('a ring that never flushes: dev_warn "FlexRM ring%d shutdown error -110" (numbering only "v001" rings), the other rings are still shut down, then ETIMEDOUT', () => {
    const sandbox = dmaSandbox();
    const model = new FlexRmModel({
      dma: sandbox.dma,
      ringWindows: 3,
      absentRings: [0],
      flushMicroseconds: Number.POSITIVE_INFINITY,
    });
    const warnings: string[] = [];
    const { target, log } = recordTarget(modelTarget(model, device));
    const error = thrown(() => createBcmFlexrmReset({ warn: (m) => warnings.push(m) })(target));
    expect(isKernelError(error, 'ETIMEDOUT')).toBe(true);
    expect((error as Error).message).toBe('ETIMEDOUT: 67000000.mailbox: 2 FlexRM ring(s) did not flush');
    expect(warnings).toEqual([
      '67000000.mailbox: FlexRM ring0 shutdown error -110',
      '67000000.mailbox: FlexRM ring1 shutdown error -110',
    ]);
    // 1000 polls of FLUSH_DONE per ring, each miss followed by mdelay(1); no second wait.
    expect(log.filter((e) => e.op === 'read' && e.offset === 0x10038)).toHaveLength(FLEXRM_FLUSH_POLLS);
    expect(log.filter((e) => e.op === 'delay')).toHaveLength(2 * FLEXRM_FLUSH_POLLS);
    expect(
      log.filter((e) => e.op === 'write' && e.offset === 0x20034).map((e) => e.op === 'write' && e.value),
    ).toEqual([0, 0x20]);
  });

  it('stops running rings: no bus access afterwards', () => {
    const sandbox = dmaSandbox();
    const model = new FlexRmModel({ dma: sandbox.dma });
    const world = { model, dma: sandbox.dma, sandbox };
    flexRmRequest(world, { ring: 0, length: 16, opaque: 1, msi: true });
    flexRmRequest(world, { ring: 3, length: 16, opaque: 2, msi: false });
    model.tick(5);
    createBcmFlexrmReset({ warn: () => {} })(modelTarget(model, device));
    sandbox.dma.resetCount();
    model.tick(100);
    expect(sandbox.dma.accesses).toBe(0);
    expect(model.dmaActive()).toBe(false);
  });

  it('without region 0: ENOMEM (ioremap failed); unknown options are refused', () => {
    const error = thrown(() =>
      createBcmFlexrmReset({ warn: () => {} })({ ...device, regions: [], delay: () => {} }),
    );
    expect(isKernelError(error, 'ENOMEM')).toBe(true);
    expect((error as Error).message).toBe('ENOMEM: 67000000.mailbox: region 0 cannot be mapped');
    expect(
      isKernelError(
        thrown(() => createBcmFlexrmReset({ wran: () => {} } as never)),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it('is the upstream module vfio-platform-bcmflexrm, with its v6.18 deprecation text', () => {
    expect(bcmFlexrmResetModule).toMatchObject({
      compatible: 'brcm,iproc-flexrm-mbox',
      owner: 'vfio-platform-bcmflexrm',
      upstream: true,
      deprecation: {
        since: 'v6.18',
        message:
          'DEPRECATION: VFIO Broadcom FlexRM platform reset is deprecated and will be removed in a future kernel release',
        kconfig: 'VFIO_PLATFORM_BCMFLEXRM_RESET',
      },
    });
  });
});
