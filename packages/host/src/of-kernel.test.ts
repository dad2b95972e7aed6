import { KernelError } from '@vfiokit/core';
import { DeviceTreeBuilder } from '@vfiokit/devicetree';
import { KERNEL_V6_18 } from '@vfiokit/vfio';
import { describe, expect, it } from 'vitest';
import { createHost } from './index.js';

// coreboot's /firmware: `ranges` but no #address-cells of its own. drivers/of/address.c
// of_match_bus() finds the cells through the ancestors up to v6.12 and gives such a bus no
// translator from v6.13 (commit 6e5773d52f4a), so the device loses its `reg` resource.
function firmwareTree() {
  return new DeviceTreeBuilder()
    .root((r) =>
      r
        .string('compatible', 'vfiokit,test')
        .cells('#address-cells', 1)
        .cells('#size-cells', 1)
        .node('firmware', (f) =>
          f
            .flag('ranges')
            .string('compatible', 'simple-bus')
            .node('coreboot', (c) => c.string('compatible', 'coreboot').cells('reg', 0x7ff00000, 0x1000)),
        ),
    )
    .build();
}

describe('createHost populates as its own kernel version does (drivers/of/address.c)', () => {
  it('the default v6.12 profile keeps the v6.12 rule: the device under /firmware has its reg', () => {
    const host = createHost(firmwareTree());
    const coreboot = host.dtDevices.find((d) => d.path === '/firmware/coreboot');
    expect(coreboot?.regions.map((r) => r.address)).toEqual([0x7ff00000n]);
  });

  it('a v6.18 profile follows v6.13+: no translator for the bus, no reg resource', () => {
    const host = createHost(firmwareTree(), { profile: KERNEL_V6_18 });
    const coreboot = host.dtDevices.find((d) => d.path === '/firmware/coreboot');
    expect(coreboot?.regions ?? []).toEqual([]);
  });

  it('an unknown option is still refused', () => {
    expect(() => createHost(firmwareTree(), { kernel: [6, 12] } as never)).toThrow(KernelError);
  });
});
