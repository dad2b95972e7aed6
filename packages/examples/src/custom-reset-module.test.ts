import { isKernelError, type ResetHandler } from '@vfiokit/core';
import {
  assertQuiescence,
  dmaSandbox,
  modelTarget,
  quiescenceProperty,
  SANDBOX_IOVA,
} from '@vfiokit/reset-modules/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FILL_ADDR, FILL_CTRL, FILL_LEN } from './custom-reset-module/pattern-fill-device.js';
import {
  customResetModuleExample,
  FILL_RESET_POLLS,
  PatternFillDevice,
  patternFillReset,
  patternFillScenario,
} from './custom-reset-module.js';

describe('example: a custom reset module for acme,pattern-fill', () => {
  it('is loaded by alias, probed with reset_required, and quiesces the device at open', () => {
    const outcome = customResetModuleExample();
    expect(outcome.report).toMatchObject({
      provider: 'reset-module',
      owner: 'acme-pattern-fill-reset',
      loaderAlias: 'vfio-reset:acme,pattern-fill',
      upstream: false,
    });
    expect(outcome.report.summary).toBe(
      `10000000.fill: reset by module acme-pattern-fill-reset for "acme,pattern-fill" (loaded for vfio-reset:acme,pattern-fill); not upstream Linux, which would find no reset; registry mode 'vfiokit'`,
    );
    expect(outcome.loaded).toEqual(['acme-pattern-fill-reset']);
    expect(outcome.dmaActiveBeforeOpen).toBe(true);
    expect(outcome.dmaActiveAfterOpen).toBe(false);
  });

  it('satisfies the quiescence property (1,000 runs)', () => {
    assertQuiescence(patternFillScenario(patternFillReset), { numRuns: 1000 });
  });

  it('a module that only clears CTRL is caught: the last owner’s address and status survive', () => {
    const stopOnly: ResetHandler = (target) => {
      target.regions[0]?.write(0x00, 4, 0);
    };
    expect(fc.check(quiescenceProperty(patternFillScenario(stopOnly)), { numRuns: 1000 }).failed).toBe(true);
  });

  it('a soft reset that never completes fails with ETIMEDOUT, and step 1 has stopped the engine anyway', () => {
    const sandbox = dmaSandbox();
    const device = new PatternFillDevice(sandbox.dma, Number.POSITIVE_INFINITY);
    device.write(FILL_ADDR, 4, SANDBOX_IOVA);
    device.write(FILL_LEN, 4, 4096);
    device.write(FILL_CTRL, 4, 1);
    device.tick(2);
    const target = modelTarget(device, { name: 'fill', compatible: ['acme,pattern-fill'] });
    let error: unknown;
    try {
      patternFillReset(target);
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'ETIMEDOUT')).toBe(true);
    expect(target.elapsedMicroseconds).toBe(FILL_RESET_POLLS);
    expect(device.dmaActive()).toBe(false);
  });
});
