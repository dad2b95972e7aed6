import { OfTree, parseFdt, propertyCells } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { fixtureDtb } from './fixtures.js';
import { XGMAC_DEVICE, xgmacGuestNodeExample } from './xgmac-guest-node.js';

// The guest node against the host node, both decompiled: same compatible, same region sizes,
// same number of interrupts and the same types (hw/core/sysbus-fdt.c writes level-high SPIs).
function nodeFacts(dtb: Uint8Array, path: string) {
  const node = OfTree.of(parseFdt(dtb)).find(path);
  if (node === undefined) throw new RangeError(`no ${path}`);
  const reg = propertyCells(node.property('reg')?.value ?? new Uint8Array());
  const interrupts = propertyCells(node.property('interrupts')?.value ?? new Uint8Array());
  return {
    compatible: node.compatible,
    // The last cell of each reg entry is the size (1 cell on QEMU's platform bus, 1 on Midway).
    sizes: reg.filter((_, i) => i % 2 === 1),
    irqTypes: interrupts.filter((_, i) => i % 3 === 2),
    dmaCoherent: node.has('dma-coherent'),
  };
}

describe('example: a Calxeda xgmac assigned with assignDevice, its QEMU guest node as DTS', () => {
  it('runs every step, and the guest node matches the host node (compatible, region sizes, 3 level-high SPIs, dma-coherent)', async () => {
    const outcome = await xgmacGuestNodeExample();
    expect(outcome.steps.map((s) => s.split(':')[0])).toEqual([
      'driver_override',
      'unbind',
      'bind',
      'open_container',
      'open_group',
      'set_container',
      'kvm_vfio_add',
      'set_iommu',
      'map_ram',
      'get_device',
      'device_info',
      'place',
      'map_regions',
      'wire_irqs',
      'guest_node',
    ]);
    expect(outcome.iommuType).toBe('noiommu');
    expect(outcome.tainted).toBe(64);
    const guest = nodeFacts(outcome.guestDtb, `/platform-bus@c000000/${XGMAC_DEVICE}@0`);
    const host = nodeFacts(fixtureDtb('calxeda-midway'), '/soc/ethernet@fff51000');
    expect(guest).toEqual(host);
    expect(guest).toEqual({
      compatible: ['calxeda,hb-xgmac'],
      sizes: [0x1000],
      irqTypes: [4, 4, 4],
      dmaCoherent: true,
    });
    expect(outcome.irqs.map((i) => [i.hostSpi, i.guestSpi, i.automasked])).toEqual([
      [80, 112, true],
      [81, 113, true],
      [82, 114, true],
    ]);
    expect(outcome.guestDts).toContain(`${XGMAC_DEVICE}@0 {`);
    expect(outcome.afterRelease).toEqual({ driver: null, override: '(null)' });
  });

  it('the comparison has teeth: a node of another kind (Midway’s SATA: 64 KiB, one SPI) differs', async () => {
    const outcome = await xgmacGuestNodeExample();
    const guest = nodeFacts(outcome.guestDtb, `/platform-bus@c000000/${XGMAC_DEVICE}@0`);
    expect(nodeFacts(fixtureDtb('calxeda-midway'), '/soc/sata@ffe08000')).not.toEqual(guest);
  });
});
