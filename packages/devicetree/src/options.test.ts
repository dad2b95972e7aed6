// Every options object of the package refuses keys it does not know (issue #9 item 27): a
// typo is an EINVAL KernelError naming the key, not a silent default.
import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { DeviceTreeBuilder } from './builder.js';
import { toDts } from './dts.js';
import { isFdtError } from './fdt-error.js';
import { serializeFdt } from './fdt-serialize.js';
import { populate } from './populate.js';

const tree = new DeviceTreeBuilder().root((r) => r.string('compatible', 'vfiokit,test')).build();

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('devicetree options reject unknown keys', () => {
  it.each([
    ['serializeFdt', () => serializeFdt(tree, { minsize: 4096 } as never), 'minsize'],
    ['toDts', () => toDts(tree, { label: true } as never), 'label'],
    ['DeviceTreeBuilder.build', () => new DeviceTreeBuilder().build({ symbol: true } as never), 'symbol'],
    ['populate', () => populate(tree, { amba: true, kernelVersion: [6, 12] } as never), 'kernelVersion'],
  ])('%s', (where, run, key) => {
    const error = errorOf(run);
    expect(isKernelError(error, 'EINVAL')).toBe(true);
    expect((error as Error).message).toContain(`${where}: unknown option '${key}'`);
  });

  it('the known keys still work', () => {
    expect(
      serializeFdt(tree, { padding: 'none', minSize: 0, padSize: 0, alignSize: 0 }).length,
    ).toBeGreaterThan(0);
    expect(toDts(tree, { labels: false })).toContain('vfiokit,test');
    expect(new DeviceTreeBuilder().build({ symbols: true }).root.children).toHaveLength(0);
  });

  it("serializeFdt's padding is 'keep' or 'none' (BADVALUE otherwise)", () => {
    expect(
      isFdtError(
        errorOf(() => serializeFdt(tree, { padding: 'kep' } as never)),
        'BADVALUE',
      ),
    ).toBe(true);
  });
});
