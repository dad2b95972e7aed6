// QEMU's guest nodes for dynamically instantiated sysbus devices, as hw/core/sysbus-fdt.c
// (hw/arm/sysbus-fdt.c before QEMU 5.2; removed with vfio-platform in QEMU 10.2) writes them:
// - platform_bus_add_all_fdt_nodes(): the bus node (see below for its name) with compatible
//   "qemu,platform\0simple-bus", #size-cells = <1>, #address-cells = <1>,
//   ranges = <0 addr>>32 addr size>, interrupt-parent = <&intc>.
// - add_calxeda_midway_xgmac_fdt_node(): `<vbasedev->name>@<offset>` with compatible,
//   dma-coherent (always), reg (one 1-cell offset/size pair per VFIO region, offsets relative
//   to the bus as platform_bus_get_mmio_addr() returns them), interrupts
//   <GIC_FDT_IRQ_TYPE_SPI irq GIC_FDT_IRQ_FLAGS_LEVEL_HI> for every IRQ.
// - add_amd_xgbe_fdt_node(): the host node found by sysfs_to_dt_name() + compatible, exactly 5
//   regions, two fixed-clock nodes copied at the root with new phandles, the host properties
//   of amd_xgbe_copied_properties[] in table order, clocks, reg, and interrupts LEVEL_HI iff
//   the VFIO IRQ is AUTOMASKED, else EDGE_LO_HI.
// - add_fdt_node(): anything else is "Device %s can not be dynamically instantiated".
// QEMU exits on each of these errors; here they are KernelError EINVAL/ENODEV with its words.
//
// Order is the blob's, not the code's: qemu_fdt_setprop()/qemu_fdt_add_subnode() are libfdt's
// fdt_setprop()/fdt_add_subnode(), which insert a new property right after the node's
// FDT_BEGIN_NODE and a new subnode before the parent's first child, so a blob lists both in
// reverse creation order. The QEMU 7.2 fixture shows it (`platform-bus@c000000` starts with
// interrupt-parent and ends with compatible). Older sysbus-fdt.c named the node `/platform@<addr>`;
// the QEMU 7.2 fixture and later QEMUs name it `/platform-bus@<addr>`, which is what we write.
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceTree, DtNode, DtProperty } from '@vfiokit/devicetree';
import type { GuestAddressMap } from '../address-map/guest-address-map.js';
import type { AssignedDeviceView } from './assigned-device.js';
import {
  findNode,
  getProp,
  maxPhandle,
  nodeByPhandle,
  prop,
  readCells,
  readStrings,
  walk,
  withRoot,
} from './dt-edit.js';

/** include/hw/arm/fdt.h */
export const GIC_FDT_IRQ_TYPE_SPI = 0;
export const GIC_FDT_IRQ_FLAGS_EDGE_LO_HI = 1;
export const GIC_FDT_IRQ_FLAGS_LEVEL_HI = 4;

/** The compatibles sysbus-fdt.c has a binding for (TYPE_VFIO_CALXEDA_XGMAC's compat, and xgbe). */
export const QEMU_SYSBUS_FDT_BINDINGS = ['calxeda,hb-xgmac', 'amd,xgbe-seattle-v1a'] as const;

/** hw/core/sysbus-fdt.c amd_xgbe_copied_properties[]: name, optional. */
const AMD_XGBE_COPIED_PROPERTIES: readonly (readonly [string, boolean])[] = [
  ['compatible', false],
  ['dma-coherent', true],
  ['amd,per-channel-interrupt', true],
  ['phy-mode', false],
  ['mac-address', true],
  ['amd,speed-set', false],
  ['amd,serdes-blwc', true],
  ['amd,serdes-cdr-rate', true],
  ['amd,serdes-pq-skew', true],
  ['amd,serdes-tx-amp', true],
  ['amd,serdes-dfe-tap-config', true],
  ['amd,serdes-dfe-tap-enable', true],
  ['clock-names', false],
];

/** clock_copied_properties[] */
const CLOCK_COPIED_PROPERTIES: readonly (readonly [string, boolean])[] = [
  ['compatible', false],
  ['#clock-cells', false],
  ['clock-frequency', true],
  ['clock-output-names', true],
];

/** Options of {@link qemuPlatformBusTree}. */
export interface QemuGuestTreeOptions {
  /** The host device tree, needed for AMD XGBE (QEMU reads it from /proc/device-tree). */
  readonly hostTree?: DeviceTree;
  /** Path of the guest interrupt controller (QEMU virt passes "/intc"); default: the root's interrupt-parent. */
  readonly intc?: string;
}

function busOffset(map: GuestAddressMap, guestAddress: bigint, device: string): number {
  const off = guestAddress - map.platformBus.base;
  if (off < 0n || off >= map.platformBus.size)
    throw new KernelError(
      'EINVAL',
      `${device}: region at 0x${guestAddress.toString(16)} is not on the platform bus`,
    );
  return Number(off);
}

function regProp(map: GuestAddressMap, dev: AssignedDeviceView): DtProperty {
  const cells: number[] = [];
  for (const r of dev.regions) cells.push(busOffset(map, r.guestAddress, dev.name), Number(r.size));
  return prop.cells('reg', ...cells);
}

function nodeName(map: GuestAddressMap, dev: AssignedDeviceView): string {
  const first = dev.regions[0];
  const off = first === undefined ? 0 : busOffset(map, first.guestAddress, dev.name);
  // g_strdup_printf("%s/%s@%" PRIx64, parent_node, vbasedev->name, mmio_base)
  return `${dev.name}@${off.toString(16)}`;
}

/** add_calxeda_midway_xgmac_fdt_node() */
export function qemuXgmacNode(map: GuestAddressMap, dev: AssignedDeviceView): DtNode {
  const irqs: number[] = [];
  for (const irq of dev.irqs) irqs.push(GIC_FDT_IRQ_TYPE_SPI, irq.guestSpi, GIC_FDT_IRQ_FLAGS_LEVEL_HI);
  return {
    name: nodeName(map, dev),
    // vdev->compat for TYPE_VFIO_CALXEDA_XGMAC is the single string "calxeda,hb-xgmac".
    properties: [
      prop.cells('interrupts', ...irqs),
      regProp(map, dev),
      prop.empty('dma-coherent'),
      prop.strings('compatible', dev.compatible[0] ?? 'calxeda,hb-xgmac'),
    ],
    children: [],
  };
}

/** sysfs_to_dt_name(): `e0900000.xgmac` → `xgmac@e0900000`. */
export function sysfsToDtName(sysfsName: string): string {
  const dot = sysfsName.indexOf('.');
  if (dot <= 0 || dot === sysfsName.length - 1)
    throw new KernelError('EINVAL', `add_amd_xgbe_fdt_node incorrect sysfs device name ${sysfsName}`);
  return `${sysfsName.slice(dot + 1)}@${sysfsName.slice(0, dot)}`;
}

function copyProperties(
  table: readonly (readonly [string, boolean])[],
  host: DtNode,
  hostPath: string,
): DtProperty[] {
  const out: DtProperty[] = [];
  for (const [name, optional] of table) {
    const v = getProp(host, name);
    if (v !== undefined) out.push(prop.raw(name, v));
    else if (!optional)
      throw new KernelError(
        'ENOENT',
        `copy_properties_from_host: ${hostPath} has no mandatory property ${name}`,
      );
  }
  return out;
}

/** add_amd_xgbe_fdt_node(): the XGBE node and its two guest clock nodes (for the root). */
export function qemuXgbeNodes(
  map: GuestAddressMap,
  dev: AssignedDeviceView,
  hostTree: DeviceTree,
  allocPhandle: () => number,
): { node: DtNode; clocks: DtNode[] } {
  const dtName = sysfsToDtName(dev.name);
  const compat = dev.compatible[0] ?? 'amd,xgbe-seattle-v1a';
  // qemu_fdt_node_path(host_fdt, dt_name, compat): every node with that name and compatible.
  const matches = [...walk(hostTree.root)].filter(
    ([n]) => n.name === dtName && readStrings(getProp(n, 'compatible') ?? new Uint8Array()).includes(compat),
  );
  if (matches.length === 0)
    throw new KernelError(
      'ENOENT',
      `add_amd_xgbe_fdt_node unable to retrieve node path for ${dtName}/${compat}`,
    );
  if (matches.length > 1)
    throw new KernelError('EINVAL', `add_amd_xgbe_fdt_node more than one node matching ${dtName}/${compat}!`);
  const [host, hostPath] = matches[0] as [DtNode, string];
  if (dev.regions.length !== 5)
    throw new KernelError('EINVAL', 'add_amd_xgbe_fdt_node Does the host dt node combine XGBE/PHY?');
  const clocksValue = getProp(host, 'clocks');
  if (clocksValue === undefined || clocksValue.length !== 8)
    throw new KernelError('EINVAL', 'add_amd_xgbe_fdt_node clocks property should contain 2 handles');
  const guestPhandles = [allocPhandle(), allocPhandle()];
  const clocks = readCells(clocksValue).map((hostPhandle, i) => {
    const found = nodeByPhandle(hostTree.root, hostPhandle);
    if (found === undefined)
      throw new KernelError('ENOENT', `not able to locate clock handle ${hostPhandle} in host device tree`);
    const [clk, clkPath] = found;
    // strcmp(r, "fixed-clock"): the first compatible string must be exactly fixed-clock.
    if (readStrings(getProp(clk, 'compatible') ?? new Uint8Array())[0] !== 'fixed-clock')
      throw new KernelError('EINVAL', `clock handle ${hostPhandle} is not a fixed clock`);
    return {
      name: clk.name,
      properties: [
        prop.cells('phandle', guestPhandles[i] as number),
        ...copyProperties(CLOCK_COPIED_PROPERTIES, clk, clkPath).reverse(),
      ],
      children: [],
    };
  });
  const irqs: number[] = [];
  for (const irq of dev.irqs)
    irqs.push(
      GIC_FDT_IRQ_TYPE_SPI,
      irq.guestSpi,
      irq.automasked ? GIC_FDT_IRQ_FLAGS_LEVEL_HI : GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
    );
  const node: DtNode = {
    name: nodeName(map, dev),
    properties: [
      prop.cells('interrupts', ...irqs),
      regProp(map, dev),
      prop.cells('clocks', ...(guestPhandles as [number, number])),
      ...copyProperties(AMD_XGBE_COPIED_PROPERTIES, host, hostPath).reverse(),
    ],
    children: [],
  };
  return { node, clocks };
}

/** platform_bus_add_all_fdt_nodes()'s bus node, empty, in blob order. */
export function qemuPlatformBusNode(map: GuestAddressMap, intcPhandle: number): DtNode {
  const addr = map.platformBus.base;
  return {
    name: `platform-bus@${addr.toString(16)}`,
    properties: [
      prop.cells('interrupt-parent', intcPhandle),
      prop.cells('ranges', 0, Number(addr >> 32n), Number(addr & 0xffff_ffffn), Number(map.platformBus.size)),
      prop.cells('#address-cells', 1),
      prop.cells('#size-cells', 1),
      prop.strings('compatible', 'qemu,platform', 'simple-bus'),
    ],
    children: [],
  };
}

/**
 * The guest tree QEMU's virt machine would boot with: `base` (a `-M virt` tree; its
 * `platform-bus@<addr>` node is reused when present, else one is added) with a node per
 * device in the bus and the XGBE clock nodes at the root, each inserted first as libfdt
 * does. New phandles continue after the base tree's largest.
 */
export function qemuPlatformBusTree(
  base: DeviceTree,
  map: GuestAddressMap,
  devices: readonly AssignedDeviceView[],
  options: QemuGuestTreeOptions = {},
): DeviceTree {
  rejectUnknownOptions(options, ['hostTree', 'intc'], 'qemuPlatformBusTree');
  const intcValue =
    options.intc === undefined
      ? getProp(base.root, 'interrupt-parent')
      : (() => {
          const intc = findNode(base.root, options.intc as string);
          return intc === undefined ? undefined : getProp(intc, 'phandle');
        })();
  if (intcValue === undefined)
    throw new KernelError(
      'ENOENT',
      `qemuPlatformBusTree: no interrupt controller phandle (${options.intc ?? 'root interrupt-parent'}) in the base tree`,
    );
  const intcPhandle = readCells(intcValue)[0] as number;
  let next = maxPhandle(base.root);
  const allocPhandle = (): number => ++next;
  const busName = `platform-bus@${map.platformBus.base.toString(16)}`;
  const rootChildren = [...base.root.children];
  let busIndex = rootChildren.findIndex((c) => c.name === busName);
  if (busIndex < 0) {
    rootChildren.unshift(qemuPlatformBusNode(map, intcPhandle));
    busIndex = 0;
  }
  const bus = rootChildren[busIndex] as DtNode;
  const busChildren = [...bus.children];
  for (const dev of devices) {
    if (dev.compatible.includes('amd,xgbe-seattle-v1a')) {
      if (options.hostTree === undefined)
        throw new KernelError(
          'EINVAL',
          `${dev.name}: AMD XGBE needs the host device tree (load_device_tree_from_sysfs)`,
        );
      const { node, clocks } = qemuXgbeNodes(map, dev, options.hostTree, allocPhandle);
      for (const c of clocks) {
        rootChildren.unshift(c);
        busIndex++;
      }
      busChildren.unshift(node);
    } else if (dev.compatible[0] === 'calxeda,hb-xgmac') {
      busChildren.unshift(qemuXgmacNode(map, dev));
    } else {
      throw new KernelError('ENODEV', `Device ${dev.name} can not be dynamically instantiated`);
    }
  }
  rootChildren[busIndex] = { name: bus.name, properties: bus.properties, children: busChildren };
  return withRoot(base, { name: base.root.name, properties: base.root.properties, children: rootChildren });
}
