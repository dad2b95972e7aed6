// Android pvmfw's check of a crosvm guest tree against the VM DTBO, before it lets a protected
// VM boot: pvmfw/src/device_assignment.rs (AOSP packages/modules/Virtualization, read in
// LineageOS/android_packages_modules_Virtualization) DeviceAssignmentInfo::parse() and
// patch_pviommus(), step for step and with its error kinds:
//  - pvIOMMUs of the VM DT (compatible "pkvm,pviommu", with a phandle): `#iommu-cells` must be
//    1 and `id` present (InvalidPvIommu); ids unique (DuplicatedPvIommuIds);
//  - `/host` of the DTBO: physical IOMMUs (nodes with a phandle and `android,pvmfw,token`)
//    need `#iommu-cells` (InvalidPhysIommu) equal to 1 (UnsupportedPhysIommu), unique tokens
//    (DuplicatedIommuIds); physical devices (`android,pvmfw,target`) need a `reg` with sizes
//    (MalformedReg), `iommus` pairs naming a physical IOMMU (MalformedIommus), unique targets
//    (InvalidDtbo) and no (IOMMU, SID) pair twice (UnsupportedIommusDuplication);
//  - each `/__symbols__` path of the DTBO must be absolute (UnsupportedPathFormat); those
//    into `/<fragment>/__overlay__/…` are assignable: the fragment must say
//    `target-path = "/"` (InvalidDtbo without it, UnsupportedOverlayTarget otherwise); a node
//    not in the VM DT, or not backed by a physical device, is skipped; its `reg` must match
//    the physical one entry by entry through the hypervisor's MMIO token (InvalidReg), its
//    `interrupts` must exist as whole 3-cell specifiers (InvalidInterrupts), its `iommus`
//    must be <pvIOMMU vSID> pairs (MalformedIommus) that the hypervisor maps one to one onto
//    the physical (IOMMU token, SID) pairs (InvalidIommus);
//  - no (pvIOMMU, vSID) pair on two devices (UnsupportedPvIommusDuplication);
//  - patch: more distinct pvIOMMUs than the platform DT pre-populates is TooManyPvIommu.
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceTree, DtNode } from '@vfiokit/devicetree';
import type { AssignedDeviceView } from './assigned-device.js';
import { findNode, getProp, pathTokens, phandleOf, readCells, readStrings, walk } from './dt-edit.js';

/** pvmfw's DeviceAssignmentError variants (UnexpectedFdtError aside). */
export const DEVICE_ASSIGNMENT_ERROR_KINDS = [
  'InvalidDtbo',
  'InvalidSymbols',
  'MalformedReg',
  'InvalidReg',
  'InvalidInterrupts',
  'MalformedIommus',
  'InvalidIommus',
  'InvalidPhysIommu',
  'InvalidPvIommu',
  'TooManyPvIommu',
  'DuplicatedIommuIds',
  'DuplicatedPvIommuIds',
  'UnsupportedPathFormat',
  'UnsupportedOverlayTarget',
  'UnsupportedPhysIommu',
  'UnsupportedPvIommusDuplication',
  'UnsupportedIommusDuplication',
  'Internal',
] as const;

export type DeviceAssignmentErrorKind = (typeof DEVICE_ASSIGNMENT_ERROR_KINDS)[number];

/** pvmfw's Display text for each kind. */
const TEXT: Record<DeviceAssignmentErrorKind, string> = {
  InvalidDtbo: 'Invalid DTBO',
  InvalidSymbols: 'Invalid property in /__symbols__. Must point to valid assignable device node.',
  MalformedReg: "Malformed <reg>. Can't parse",
  InvalidReg: 'Invalid <reg>. Failed to validate with hypervisor',
  InvalidInterrupts: 'Invalid <interrupts>',
  MalformedIommus: "Malformed <iommus>. Can't parse.",
  InvalidIommus: 'Invalid <iommus>. Failed to validate with hypervisor',
  InvalidPhysIommu: 'Invalid phys IOMMU node',
  InvalidPvIommu: 'Invalid pvIOMMU node',
  TooManyPvIommu: 'Too many pvIOMMU node. Insufficient pre-populated pvIOMMUs in platform DT',
  DuplicatedIommuIds: 'Duplicated IOMMU IDs exist. IDs must unique among iommu node',
  DuplicatedPvIommuIds: 'Duplicated pvIOMMU IDs exist. IDs must unique among iommu node',
  UnsupportedPathFormat: 'Unsupported UnsupportedPathFormat. Only supports full path',
  UnsupportedOverlayTarget: 'Unsupported overlay target. Only supports \'target-path = "/"\'',
  UnsupportedPhysIommu: 'Unsupported Phys IOMMU. Currently only supports #iommu-cells = <1>',
  UnsupportedPvIommusDuplication:
    'Unsupported (pvIOMMU id, vSID) duplication. Currently the pair should be unique.',
  UnsupportedIommusDuplication:
    'Unsupported (IOMMU token, SID) duplication. Currently the pair should be unique.',
  Internal: 'Internal error',
};

/** A refusal of pvmfw's validator: `kind` is pvmfw's variant name; the errno is EINVAL. */
export class DeviceAssignmentError extends KernelError {
  readonly kind: DeviceAssignmentErrorKind;
  constructor(kind: DeviceAssignmentErrorKind, detail: string) {
    super('EINVAL', `${kind}: ${TEXT[kind]} (${detail})`);
    this.kind = kind;
  }
}

/** hyp::DeviceAssigningHypervisor: what pvmfw asks the hypervisor. Throw to refuse. */
export interface DeviceAssigningHypervisor {
  /** The physical address backing guest MMIO [ipa, ipa + size). */
  getPhysMmioToken(ipa: bigint, size: bigint): bigint;
  /** The physical (IOMMU token, SID) behind a (pvIOMMU id, vSID). */
  getPhysIommuToken(pvIommuId: number, vsid: number): readonly [bigint, number];
}

/** One device pvmfw accepted. */
export interface ValidatedDevice {
  readonly nodePath: string;
  readonly reg: readonly (readonly [bigint, bigint])[];
  readonly interruptCells: number;
  readonly iommus: readonly (readonly [number, number])[];
}

/** Options of {@link validateDeviceAssignment}. */
export interface ValidateOptions {
  /** pvIOMMU nodes the platform DT pre-populates (pvmfw's platform.dts); omitted = unlimited. */
  readonly platformPvIommuCount?: number;
}

const fail = (kind: DeviceAssignmentErrorKind, detail: string): never => {
  throw new DeviceAssignmentError(kind, detail);
};

function cellsOf(node: DtNode, name: string): number | undefined {
  const v = getProp(node, name);
  return v === undefined || v.length !== 4 ? undefined : readCells(v)[0];
}

function readNumber(cells: readonly number[], at: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 32n) | BigInt(cells[at + i] ?? 0);
  return v;
}

/** FdtNode::reg(): entries with the parent's #address-cells/#size-cells; MalformedReg when unparsable. */
function parseReg(node: DtNode, parent: DtNode, path: string): [bigint, bigint][] {
  const v = getProp(node, 'reg');
  if (v === undefined || v.length % 4 !== 0) return fail('MalformedReg', `${path}: no <reg>`);
  const ac = cellsOf(parent, '#address-cells') ?? 2;
  const sc = cellsOf(parent, '#size-cells') ?? 1;
  if (sc === 0) return fail('MalformedReg', `${path}: #size-cells = <0> gives no size`);
  const cells = readCells(v);
  if (cells.length % (ac + sc) !== 0) return fail('MalformedReg', `${path}: <reg> is not whole entries`);
  const out: [bigint, bigint][] = [];
  for (let i = 0; i < cells.length; i += ac + sc)
    out.push([readNumber(cells, i, ac), readNumber(cells, i + ac, sc)]);
  return out;
}

function parentOf(root: DtNode, path: string): DtNode {
  const t = pathTokens(path);
  return findNode(root, `/${t.slice(0, -1).join('/')}`) as DtNode;
}

function pairs(node: DtNode, path: string): [number, number][] {
  const v = getProp(node, 'iommus');
  if (v === undefined) return [];
  const cells = readCells(v);
  if (cells.length % 2 !== 0) return fail('MalformedIommus', `${path}: odd <iommus> cell count`);
  const out: [number, number][] = [];
  for (let i = 0; i < cells.length; i += 2) out.push([cells[i] as number, cells[i + 1] as number]);
  return out;
}

/**
 * Validates the device assignment of `vmDt` (the guest tree crosvm built) against `vmDtbo`,
 * as pvmfw does before booting a protected VM. Returns the accepted devices (empty when the
 * DTBO has no `__symbols__` or nothing is assigned) or throws {@link DeviceAssignmentError}.
 */
export function validateDeviceAssignment(
  vmDt: DeviceTree,
  vmDtbo: DeviceTree,
  hypervisor: DeviceAssigningHypervisor,
  options: ValidateOptions = {},
): ValidatedDevice[] {
  rejectUnknownOptions(options, ['platformPvIommuCount'], 'validateDeviceAssignment');
  const symbols = findNode(vmDtbo.root, '/__symbols__');
  if (symbols === undefined) return [];
  // parse_pviommus
  const pviommus = new Map<number, number>();
  for (const [n, path] of walk(vmDt.root)) {
    if (!readStrings(getProp(n, 'compatible') ?? new Uint8Array()).includes('pkvm,pviommu')) continue;
    const ph = phandleOf(n);
    if (ph === undefined) continue;
    if (cellsOf(n, '#iommu-cells') !== 1) fail('InvalidPvIommu', `${path}: #iommu-cells must be <1>`);
    const id = cellsOf(n, 'id');
    if (id === undefined) return fail('InvalidPvIommu', `${path}: no id`);
    pviommus.set(ph, id);
  }
  if (new Set(pviommus.values()).size !== pviommus.size)
    fail('DuplicatedPvIommuIds', [...pviommus.values()].join(', '));
  // parse_physical_devices
  const host = findNode(vmDtbo.root, '/host');
  const physIommus = new Map<number, bigint>();
  const physDevices = new Map<
    number,
    { reg: [bigint, bigint][]; iommus: [bigint, number][]; path: string }
  >();
  if (host !== undefined) {
    for (const [n, rel] of walk(host)) {
      const path = `/host${rel === '/' ? '' : rel}`;
      const ph = phandleOf(n);
      const token = getProp(n, 'android,pvmfw,token');
      if (ph === undefined || token === undefined || token.length !== 8) continue;
      const cells = cellsOf(n, '#iommu-cells');
      if (cells === undefined) fail('InvalidPhysIommu', `${path}: no #iommu-cells`);
      if (cells !== 1) fail('UnsupportedPhysIommu', `${path}: #iommu-cells = <${cells}>`);
      physIommus.set(ph, readNumber(readCells(token), 0, 2));
    }
    if (new Set(physIommus.values()).size !== physIommus.size)
      fail('DuplicatedIommuIds', [...physIommus.values()].map((t) => `0x${t.toString(16)}`).join(', '));
    for (const [n, rel] of walk(host)) {
      const path = `/host${rel === '/' ? '' : rel}`;
      const target = cellsOf(n, 'android,pvmfw,target');
      if (target === undefined) continue;
      const reg = parseReg(n, parentOf(vmDtbo.root, path), path);
      const iommus = pairs(n, path).map(([ph, sid]): [bigint, number] => {
        const token = physIommus.get(ph);
        if (token === undefined)
          return fail('MalformedIommus', `${path}: <iommus> phandle ${ph} is no physical IOMMU`);
        return [token, sid];
      });
      if (physDevices.has(target)) fail('InvalidDtbo', `${path}: target phandle ${target} used twice`);
      physDevices.set(target, { reg, iommus, path });
    }
    const seen = new Set<string>();
    for (const d of physDevices.values())
      for (const [t, sid] of d.iommus) {
        const key = `${t}:${sid}`;
        if (seen.has(key))
          fail('UnsupportedIommusDuplication', `${d.path}: <iommus> = (0x${t.toString(16)}, ${sid})`);
        seen.add(key);
      }
  }
  // each symbol
  const assigned: ValidatedDevice[] = [];
  for (const p of symbols.properties) {
    const dtboPath = readStrings(p.value)[0] ?? '';
    if (!dtboPath.startsWith('/')) fail('UnsupportedPathFormat', `${p.name} = ${JSON.stringify(dtboPath)}`);
    const tokens = pathTokens(dtboPath);
    if (tokens[1] !== '__overlay__') continue;
    const dtboNode = findNode(vmDtbo.root, dtboPath);
    if (dtboNode === undefined) fail('InvalidSymbols', `${p.name} = ${dtboPath}`);
    const fragment = findNode(vmDtbo.root, `/${tokens[0]}`) as DtNode;
    const tp = getProp(fragment, 'target-path');
    if (tp === undefined) fail('InvalidDtbo', `/${tokens[0]} has no target-path`);
    if (readStrings(tp as Uint8Array)[0] !== '/')
      fail(
        'UnsupportedOverlayTarget',
        `/${tokens[0]} target-path = ${JSON.stringify(readStrings(tp as Uint8Array)[0])}`,
      );
    const nodePath = `/${tokens.slice(2).join('/')}`;
    const node = findNode(vmDt.root, nodePath);
    if (node === undefined) continue;
    const ph = phandleOf(dtboNode as DtNode);
    if (ph === undefined) fail('InvalidDtbo', `${dtboPath} has no phandle`);
    const phys = physDevices.get(ph as number);
    if (phys === undefined) continue;
    // validate_reg
    const reg = parseReg(node, parentOf(vmDt.root, nodePath), nodePath);
    if (reg.length !== phys.reg.length)
      fail(
        'InvalidReg',
        `${nodePath}: ${reg.length} <reg> entries, the physical device has ${phys.reg.length}`,
      );
    for (const [i, [addr, size]] of reg.entries()) {
      let token: bigint;
      try {
        token = hypervisor.getPhysMmioToken(addr, size);
      } catch (e) {
        return fail(
          'InvalidReg',
          `${nodePath}: hypervisor refused MMIO token for 0x${addr.toString(16)}: ${String(e)}`,
        );
      }
      if (phys.reg[i]?.[0] !== token)
        fail('InvalidReg', `${nodePath}: no matching phys reg for reg=0x${addr.toString(16)}`);
    }
    // parse_interrupts
    const irq = getProp(node, 'interrupts');
    if (irq === undefined) fail('InvalidInterrupts', `${nodePath}: no <interrupts>`);
    const irqCells = (irq as Uint8Array).length / 4;
    if (!Number.isInteger(irqCells) || irqCells % 3 !== 0)
      fail('InvalidInterrupts', `${nodePath}: ${irqCells} cells is not a multiple of 3`);
    // parse_iommus + validate_iommus
    const iommus = pairs(node, nodePath).map(([pph, vsid]): [number, number] => {
      const id = pviommus.get(pph);
      if (id === undefined)
        return fail('MalformedIommus', `${nodePath}: <iommus> phandle ${pph} is no pvIOMMU`);
      return [id, vsid];
    });
    if (iommus.length !== phys.iommus.length)
      fail(
        'InvalidIommus',
        `${nodePath}: ${iommus.length} <iommus> entries, the physical device has ${phys.iommus.length}`,
      );
    const left = [...phys.iommus];
    for (const [id, vsid] of iommus) {
      let t: readonly [bigint, number];
      try {
        t = hypervisor.getPhysIommuToken(id, vsid);
      } catch (e) {
        return fail(
          'InvalidIommus',
          `${nodePath}: hypervisor refused IOMMU token for (${id}, ${vsid}): ${String(e)}`,
        );
      }
      const at = left.findIndex(([tok, sid]) => tok === t[0] && sid === t[1]);
      if (at < 0)
        fail(
          'InvalidIommus',
          `${nodePath}: no matching phys iommu or duplicated mapping for pviommu=${id}, vsid=${vsid}`,
        );
      left.splice(at, 1);
    }
    assigned.push({ nodePath, reg, interruptCells: irqCells, iommus });
  }
  if (assigned.length === 0) return [];
  // validate_pviommu_topology
  const seen = new Set<string>();
  for (const d of assigned)
    for (const [id, vsid] of d.iommus) {
      const key = `${id}:${vsid}`;
      if (seen.has(key)) fail('UnsupportedPvIommusDuplication', `<iommus> = (${id}, ${vsid})`);
      seen.add(key);
    }
  // patch_pviommus
  const used = new Set(assigned.flatMap((d) => d.iommus.map(([id]) => id)));
  if (options.platformPvIommuCount !== undefined && used.size > options.platformPvIommuCount)
    fail('TooManyPvIommu', `${used.size} pvIOMMUs used, ${options.platformPvIommuCount} pre-populated`);
  return assigned;
}

/**
 * The hypervisor of a VMM that placed `assignments` itself: guest MMIO maps to the host region
 * it was placed for; (pvIOMMU id, vSID) maps to the device's `vsid`-th physical IOMMU entry,
 * whose token is given by `iommuTokens` (host IOMMU path → token).
 */
export function placementHypervisor(
  assignments: readonly { readonly view: AssignedDeviceView; readonly pvIommuId?: number }[],
  iommuTokens: ReadonlyMap<string, bigint>,
): DeviceAssigningHypervisor {
  return {
    getPhysMmioToken(ipa, size) {
      for (const a of assignments)
        for (const r of a.view.regions) if (r.guestAddress === ipa && r.size === size) return r.hostAddress;
      throw new KernelError('ENOENT', `no assigned MMIO at 0x${ipa.toString(16)} (+0x${size.toString(16)})`);
    },
    getPhysIommuToken(id, vsid) {
      const a = assignments.find((x) => x.pvIommuId === id);
      const e = a?.view.iommus[vsid];
      const token = e === undefined ? undefined : iommuTokens.get(e.iommu);
      if (e === undefined || token === undefined)
        throw new KernelError('ENOENT', `no physical IOMMU behind pvIOMMU ${id} vSID ${vsid}`);
      return [token, e.sid];
    },
  };
}
