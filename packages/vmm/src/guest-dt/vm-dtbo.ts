// The crosvm / Android (AVF) way: the VMM is device-agnostic. A VM DTBO, written per board
// (docs/device_assignment.md in AOSP packages/modules/Virtualization), holds each assignable
// device as a labelled node in a fragment targeting `&{/}`, plus a `/host` node that
// describes the physical device (physical `reg`, `iommus` as <&iommu SID> pairs,
// `android,pvmfw,target = <&label>`) and the physical IOMMUs (`#iommu-cells = <1>`,
// `android,pvmfw,token` = a u64 the hypervisor knows). At VM start crosvm
// (arch/src/fdt.rs apply_device_tree_overlays → patch_fdt_node) finds each assigned device's
// node by its `dt_symbol` label and sets `reg` (u64 address/size pairs), `interrupts`
// (<GIC_FDT_IRQ_TYPE_SPI irq flags> triplets) and `iommus` (<&pviommu vSID> pairs), adds one
// pvIOMMU node per device (create_pkvm_pviommu_node: compatible "pkvm,pviommu",
// `#iommu-cells = <1>`, `id`), and applies only those labels of the overlay.
//
// vmDtboTemplate() writes such a DTBO from host devices the way `dtc -@` compiles the
// document's example (phandles, `__symbols__`, `__local_fixups__`); the IOMMU token is the
// physical IOMMU's MMIO base (the example's `<0x0 0x12e40000>` is one), a vfiokit choice that
// a board may replace with its hypervisor's own tokens.
import { KernelError } from '@vfiokit/core';
import type { DeviceTree, DtDevice, DtNode, DtProperty } from '@vfiokit/devicetree';
import type { AssignedDeviceView } from './assigned-device.js';
import {
  bigCells,
  deepCopy,
  findNode,
  getProp,
  type MutableNode,
  maxPhandle,
  newTree,
  prop,
  readCells,
  setProp,
  withRoot,
} from './dt-edit.js';
import { applyOverlay } from './overlay.js';
import {
  GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
  GIC_FDT_IRQ_FLAGS_LEVEL_HI,
  GIC_FDT_IRQ_TYPE_SPI,
} from './qemu-sysbus-fdt.js';

/** One assignable device of a VM DTBO template. */
export interface VmDtboDevice {
  /** The DTBO label (`<dtbo_label>` of assignable_devices.xml, crosvm's `dt_symbol`). */
  readonly label: string;
  /** The host device (from the host tree's populate()). */
  readonly device: DtDevice;
  /** Host properties copied into the overlay node besides `compatible` (default none). */
  readonly copyProperties?: readonly string[];
}

/** The host facts of the physical IOMMUs the devices use: node path → token and `#iommu-cells`. */
export interface VmDtboIommu {
  readonly path: string;
  readonly token: bigint;
  readonly iommuCells: number;
}

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function nodeBaseName(device: DtDevice): string {
  const last = device.path.split('/').pop() ?? device.name;
  return last.split('@')[0] ?? last;
}

/**
 * The VM DTBO for `devices`: `fragment@N` (target-path "/") with the labelled node, `/host`
 * with the physical devices and IOMMUs, `__symbols__` and `__local_fixups__` as `dtc -@`
 * writes them. `hostTree` gives the IOMMUs' `reg` (token) and `#iommu-cells`.
 */
export function vmDtboTemplate(hostTree: DeviceTree, devices: readonly VmDtboDevice[]): DeviceTree {
  const labels = new Set<string>();
  for (const d of devices) {
    if (!LABEL.test(d.label))
      throw new KernelError('EINVAL', `vmDtboTemplate: ${JSON.stringify(d.label)} is not a DTS label`);
    if (labels.has(d.label))
      throw new KernelError('EEXIST', `vmDtboTemplate: label ${d.label} is used twice`);
    labels.add(d.label);
  }
  let next = 0;
  const iommus = new Map<string, { name: string; label: string; phandle: number; info: VmDtboIommu }>();
  const devPhandles = devices.map(() => ++next);
  for (const d of devices) {
    for (const link of d.device.iommus) {
      if (iommus.has(link.target)) continue;
      const node = findNode(hostTree.root, link.target);
      if (node === undefined)
        throw new KernelError('ENOENT', `vmDtboTemplate: IOMMU ${link.target} is not in the host tree`);
      const reg = getProp(node, 'reg');
      const cells = getProp(node, '#iommu-cells');
      // The token is the IOMMU's first `reg` address, read with the root's 2 address cells
      // (all the fixtures' SMMUs sit at the root or on a 2-cell bus).
      const regCells = reg === undefined ? [] : readCells(reg);
      const token =
        regCells.length >= 2
          ? (BigInt(regCells[0] as number) << 32n) | BigInt(regCells[1] as number)
          : BigInt(iommus.size);
      const i = iommus.size;
      iommus.set(link.target, {
        name: `iommu${i}`,
        label: `iommu${i}`,
        phandle: ++next,
        info: { path: link.target, token, iommuCells: cells === undefined ? 0 : (readCells(cells)[0] ?? 0) },
      });
    }
  }
  const fragments: DtNode[] = devices.map((d, i) => {
    const props: DtProperty[] = [prop.strings('compatible', ...d.device.compatible)];
    for (const name of d.copyProperties ?? []) {
      const host = findNode(hostTree.root, d.device.path);
      const v = host === undefined ? undefined : getProp(host, name);
      if (v === undefined)
        throw new KernelError('ENOENT', `vmDtboTemplate: ${d.device.path} has no property ${name}`);
      props.push(prop.raw(name, v));
    }
    props.push(prop.cells('phandle', devPhandles[i] as number));
    return {
      name: `fragment@${i}`,
      properties: [prop.strings('target-path', '/')],
      children: [
        {
          name: '__overlay__',
          properties: [],
          children: [{ name: nodeBaseName(d.device), properties: props, children: [] }],
        },
      ],
    };
  });
  const hostDevices: DtNode[] = devices.map((d, i) => {
    const reg: number[] = [];
    for (const r of d.device.regions) reg.push(...bigCells(r.address, 2), ...bigCells(r.size, 2));
    const io: number[] = [];
    for (const l of d.device.iommus)
      io.push((iommus.get(l.target) as { phandle: number }).phandle, ...l.args);
    const props = [prop.cells('reg', ...reg)];
    if (io.length > 0) props.push(prop.cells('iommus', ...io));
    props.push(prop.cells('android,pvmfw,target', devPhandles[i] as number));
    return { name: nodeBaseName(d.device), properties: props, children: [] };
  });
  const iommuNodes: DtNode[] = [...iommus.values()].map((m) => ({
    name: m.name,
    properties: [
      prop.cells('#iommu-cells', m.info.iommuCells),
      prop.cells('android,pvmfw,token', ...bigCells(m.info.token, 2)),
      prop.cells('phandle', m.phandle),
    ],
    children: [],
  }));
  const symbols: DtProperty[] = [
    ...devices.map((d, i) => prop.strings(d.label, `/fragment@${i}/__overlay__/${nodeBaseName(d.device)}`)),
    ...[...iommus.values()].map((m) => prop.strings(m.label, `/host/${m.name}`)),
  ];
  const localFixups: DtNode = {
    name: '__local_fixups__',
    properties: [],
    children: [
      {
        name: 'host',
        properties: [],
        children: devices.map((d) => {
          const props = [];
          if (d.device.iommus.length > 0)
            props.push(
              prop.cells(
                'iommus',
                ...d.device.iommus.map((_, k) => k * 4 * (1 + (d.device.iommus[0]?.args.length ?? 1))),
              ),
            );
          props.push(prop.cells('android,pvmfw,target', 0));
          return { name: nodeBaseName(d.device), properties: props, children: [] };
        }),
      },
    ],
  };
  return newTree({
    name: '',
    properties: [],
    children: [
      ...fragments,
      {
        name: 'host',
        properties: [prop.cells('#address-cells', 2), prop.cells('#size-cells', 2)],
        children: [...hostDevices, ...iommuNodes],
      },
      { name: '__symbols__', properties: symbols, children: [] },
      localFixups,
    ],
  });
}

/** A pvIOMMU the VMM gives a device (crosvm: one per device, `id` from KVM). */
export interface PvIommu {
  readonly id: number;
  readonly phandle: number;
}

/** Where crosvm puts an assigned device: its label, its guest view and its pvIOMMU (if any). */
export interface CrosvmAssignment {
  readonly label: string;
  readonly view: AssignedDeviceView;
  /** pvIOMMU id for this device's IOMMU entries (vSIDs are the entries' indexes), or none. */
  readonly pvIommuId?: number;
}

/** crosvm patch_fdt_node(): the overlay node of `label` gets the guest reg, interrupts and iommus. */
export function patchVmDtbo(
  dtbo: DeviceTree,
  label: string,
  view: AssignedDeviceView,
  pvIommu?: PvIommu,
): DeviceTree {
  const root = deepCopy(dtbo.root);
  const sym = findNode(root, '/__symbols__');
  const path = sym === undefined ? undefined : getProp(sym, label);
  if (path === undefined) throw new KernelError('ENOENT', `labels ${label} not found in overlay files`);
  const node = findNode(root, new TextDecoder().decode(path).replace(/\0$/, ''));
  if (node === undefined) throw new KernelError('ENOENT', `overlay symbol ${label} points at no node`);
  const reg: number[] = [];
  for (const r of view.regions) reg.push(...bigCells(r.guestAddress, 2), ...bigCells(r.size, 2));
  setProp(node, prop.cells('reg', ...reg));
  const irqs: number[] = [];
  for (const irq of view.irqs)
    irqs.push(
      GIC_FDT_IRQ_TYPE_SPI,
      irq.guestSpi,
      irq.automasked ? GIC_FDT_IRQ_FLAGS_LEVEL_HI : GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
    );
  setProp(node, prop.cells('interrupts', ...irqs));
  if (pvIommu !== undefined && view.iommus.length > 0) {
    const io: number[] = [];
    for (let vsid = 0; vsid < view.iommus.length; vsid++) io.push(pvIommu.phandle, vsid);
    setProp(node, prop.cells('iommus', ...io));
  }
  return withRoot(dtbo, root);
}

/** create_pkvm_pviommu_node(): `pviommu<id>` at the root with compatible, id, #iommu-cells, phandle. */
export function pvIommuNode(p: PvIommu): DtNode {
  return {
    name: `pviommu${p.id}`,
    properties: [
      prop.strings('compatible', 'pkvm,pviommu'),
      prop.cells('id', p.id),
      prop.cells('#iommu-cells', 1),
      prop.cells('phandle', p.phandle),
    ],
    children: [],
  };
}

/**
 * The guest tree crosvm boots: `base` plus a pvIOMMU node per assignment that has an id, then
 * the VM DTBO patched for each assignment and applied with only the assigned labels.
 */
export function crosvmGuestTree(
  base: DeviceTree,
  dtbo: DeviceTree,
  assignments: readonly CrosvmAssignment[],
): DeviceTree {
  let next = maxPhandle(base.root);
  const root: MutableNode = deepCopy(base.root);
  let patched = dtbo;
  for (const a of assignments) {
    let pv: PvIommu | undefined;
    if (a.pvIommuId !== undefined) {
      pv = { id: a.pvIommuId, phandle: ++next };
      root.children.push(pvIommuNode(pv) as MutableNode);
    }
    patched = patchVmDtbo(patched, a.label, a.view, pv);
  }
  return applyOverlay(withRoot(base, root), patched, { symbols: assignments.map((a) => a.label) });
}
