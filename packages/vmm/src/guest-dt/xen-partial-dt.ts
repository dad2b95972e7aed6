// Xen on Arm dom0less device passthrough: a partial device tree per domain
// (xen-project/xen docs/misc/arm/passthrough.txt, docs/misc/arm/device-tree/booting.txt
// "Device Assignment", docs/misc/arm/passthrough-noiommu.txt):
//   / { #address-cells = <2>; #size-cells = <2>;
//       passthrough { compatible = "simple-bus"; ranges; #address-cells = <2>; #size-cells = <2>;
//           dev@<guest> { compatible; reg = <guest addr size>; interrupt-parent = <0xfde8>;
//                         interrupts = <...>; xen,reg = <host-addr size guest-addr>;
//                         xen,path = "<host node path>"; [xen,force-assign-without-iommu;] }; }; };
// `interrupt-parent = <65000>` is GUEST_PHANDLE_GIC (xen/include/public/arch-arm.h): the
// domain's vGIC. IRQs are mapped 1:1 ("VIRQ == IRQ"), so a guest SPI must be the host's.
// `xen,force-assign-without-iommu` is written exactly when the host node has no `iommus` —
// Xen refuses to assign such a device otherwise — and is the only surveyed way to pass a
// device without IOMMU protection on purpose (trusted domain, no DMA or direct-mapped).
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceTree, DtNode, DtProperty } from '@vfiokit/devicetree';
import type { AssignedDeviceView } from './assigned-device.js';
import { bigCells, findNode, getProp, newTree, prop } from './dt-edit.js';

/** GUEST_PHANDLE_GIC of xen/include/public/arch-arm.h (65000). */
export const XEN_GUEST_PHANDLE_GIC = 0xfde8;

/** Linux/DT trigger flags (include/dt-bindings/interrupt-controller/irq.h). */
const TRIGGER_FLAGS: Record<AssignedDeviceView['irqs'][number]['trigger'], number> = {
  none: 0,
  'edge-rising': 1,
  'edge-falling': 2,
  'edge-both': 3,
  'level-high': 4,
  'level-low': 8,
};

/** Options of {@link xenPartialDt}. */
export interface XenPartialDtOptions {
  /** Host properties to copy into each node besides `compatible` (the host tree is needed then). */
  readonly copyProperties?: readonly string[];
  readonly hostTree?: DeviceTree;
}

/** The dom0less partial device tree passing `devices` through. */
export function xenPartialDt(
  devices: readonly AssignedDeviceView[],
  options: XenPartialDtOptions = {},
): DeviceTree {
  rejectUnknownOptions(options, ['copyProperties', 'hostTree'], 'xenPartialDt');
  const nodes: DtNode[] = devices.map((d) => {
    const first = d.regions[0];
    const base = d.hostPath.split('/').pop()?.split('@')[0] ?? d.name;
    const props: DtProperty[] = [prop.strings('compatible', ...d.compatible)];
    for (const name of options.copyProperties ?? []) {
      const host = options.hostTree === undefined ? undefined : findNode(options.hostTree.root, d.hostPath);
      const v = host === undefined ? undefined : getProp(host, name);
      if (v === undefined)
        throw new KernelError(
          'ENOENT',
          `xenPartialDt: ${d.hostPath} has no property ${name} (or no hostTree given)`,
        );
      props.push(prop.raw(name, v));
    }
    const reg: number[] = [];
    const xenReg: number[] = [];
    for (const r of d.regions) {
      reg.push(...bigCells(r.guestAddress, 2), ...bigCells(r.size, 2));
      xenReg.push(...bigCells(r.hostAddress, 2), ...bigCells(r.size, 2), ...bigCells(r.guestAddress, 2));
    }
    props.push(prop.cells('reg', ...reg));
    if (d.irqs.length > 0) {
      const irqs: number[] = [];
      for (const irq of d.irqs) {
        if (irq.hostSpi === undefined || irq.guestSpi !== irq.hostSpi)
          throw new KernelError(
            'EINVAL',
            `xenPartialDt: ${d.name} maps SPI ${irq.hostSpi} to ${irq.guestSpi}; Xen maps IRQs 1:1 (VIRQ == IRQ)`,
          );
        irqs.push(0, irq.guestSpi, TRIGGER_FLAGS[irq.trigger]);
      }
      props.push(prop.cells('interrupt-parent', XEN_GUEST_PHANDLE_GIC), prop.cells('interrupts', ...irqs));
    }
    props.push(prop.cells('xen,reg', ...xenReg), prop.strings('xen,path', d.hostPath));
    if (d.iommus.length === 0) props.push(prop.empty('xen,force-assign-without-iommu'));
    return {
      name: first === undefined ? base : `${base}@${first.guestAddress.toString(16)}`,
      properties: props,
      children: [],
    };
  });
  return newTree({
    name: '',
    properties: [prop.cells('#address-cells', 2), prop.cells('#size-cells', 2)],
    children: [
      {
        name: 'passthrough',
        properties: [
          prop.strings('compatible', 'simple-bus'),
          prop.empty('ranges'),
          prop.cells('#address-cells', 2),
          prop.cells('#size-cells', 2),
        ],
        children: nodes,
      },
    ],
  });
}
