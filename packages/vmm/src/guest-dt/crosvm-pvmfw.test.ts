import { isKernelError } from '@vfiokit/core';
import {
  type DeviceTree,
  DeviceTreeBuilder,
  parseFdt,
  populate,
  ref,
  serializeFdt,
  toDts,
} from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { GuestAddressMap } from '../address-map/guest-address-map.js';
import { editTree } from '../test-support/edit.js';
import { fixtureTree, hostDevice } from '../test-support/fixtures.js';
import { fdtoverlay, hasDtcTools } from '../test-support/tools.js';
import { type AssignedDeviceView, placeDevice } from './assigned-device.js';
import { cellsValue, prop, setProp } from './dt-edit.js';
import { applyOverlay } from './overlay.js';
import {
  DEVICE_ASSIGNMENT_ERROR_KINDS,
  type DeviceAssigningHypervisor,
  DeviceAssignmentError,
  type DeviceAssignmentErrorKind,
  placementHypervisor,
  validateDeviceAssignment,
} from './pvmfw-validator.js';
import { crosvmGuestTree, patchVmDtbo, vmDtboTemplate } from './vm-dtbo.js';

/** A crosvm-like base guest tree: GIC, memory, __symbols__. */
function crosvmBase(): DeviceTree {
  return new DeviceTreeBuilder()
    .root((r) =>
      r
        .string('compatible', 'linux,dummy-virt')
        .cells('#address-cells', 2)
        .cells('#size-cells', 2)
        .cells('interrupt-parent', ref('intc'))
        .node('intc', (n) =>
          n
            .label('intc')
            .string('compatible', 'arm,gic-v3')
            .cells('#interrupt-cells', 3)
            .flag('interrupt-controller')
            .cells('reg', 0, 0x3fff0000, 0, 0x10000, 0, 0x3ffd0000, 0, 0x20000),
        )
        .node('memory@80000000', (n) =>
          n.string('device_type', 'memory').cells('reg', 0, 0x80000000, 0, 0x40000000),
        ),
    )
    .build({ symbols: true });
}

const junoTree = fixtureTree('juno-r2');
const pl330 = hostDevice(junoTree, '7ff00000.dma-controller');
const hdlcd = hostDevice(junoTree, '7ff50000.hdlcd');
const TOKENS = new Map([
  ['/iommu@7fb00000', 0x7fb0_0000n],
  ['/iommu@7fb10000', 0x7fb1_0000n],
]);

function setup(devices = [{ label: 'dma', device: pl330 }]) {
  const map = GuestAddressMap.crosvm();
  const dtbo = vmDtboTemplate(junoTree, devices);
  const assignments = devices.map((d, i) => ({
    label: d.label,
    view: placeDevice(map, d.device),
    pvIommuId: i,
  }));
  const guest = crosvmGuestTree(crosvmBase(), dtbo, assignments);
  return { map, dtbo, assignments, guest, hyp: placementHypervisor(assignments, TOKENS) };
}

function kindOf(f: () => unknown): DeviceAssignmentErrorKind | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DeviceAssignmentError) return e.kind;
    throw e;
  }
  return undefined;
}

describe('VM DTBO template and crosvm patching (docs/device_assignment.md, arch/src/fdt.rs)', () => {
  it('writes the labelled overlay node, /host with reg, iommus and target, IOMMUs with token and #iommu-cells', () => {
    const text = toDts(parseFdt(serializeFdt(vmDtboTemplate(junoTree, [{ label: 'dma', device: pl330 }]))), {
      labels: true,
    });
    expect(text).toContain(
      'fragment@0 {\n\t\ttarget-path = "/";\n\n\t\t__overlay__ {\n\n\t\t\tdma: dma-controller {\n\t\t\t\tcompatible = "arm,pl330\\0arm,primecell";',
    );
    expect(text).toContain('reg = <0x00 0x7ff00000 0x00 0x1000>;');
    expect(text).toContain('iommus = <&iommu0 0x00 &iommu0 0x01 &iommu0 0x02');
    expect(text).toContain('android,pvmfw,target = <0x01>;');
    expect(text).toContain(
      'iommu0: iommu0 {\n\t\t\t#iommu-cells = <0x01>;\n\t\t\tandroid,pvmfw,token = <0x00 0x7fb00000>;',
    );
  });

  it.skipIf(!hasDtcTools())('the patched DTBO is an overlay libfdt applies as we do', () => {
    const { dtbo, assignments } = setup();
    const patched = patchVmDtbo(dtbo, 'dma', assignments[0]?.view as AssignedDeviceView);
    const base = serializeFdt(crosvmBase());
    const expected = fdtoverlay(base, serializeFdt(patched));
    if (!(expected instanceof Uint8Array)) throw new TypeError(expected.error);
    const ours = serializeFdt(applyOverlay(parseFdt(base), patched), { padding: 'none' });
    expect(toDts(parseFdt(ours))).toBe(toDts(parseFdt(expected)));
  });

  it('the guest node matches the host node: region sizes, interrupt count and types; pvmfw accepts it', () => {
    const { guest, dtbo, hyp } = setup();
    const blob = serializeFdt(guest);
    const g = populate(parseFdt(blob)).devices.find((d) => d.compatible[0] === 'arm,pl330');
    expect(g?.path).toBe('/dma-controller');
    expect(g?.regions.map((r) => r.size)).toEqual(pl330.regions.map((r) => r.size));
    expect(g?.regions[0]?.address).toBe(0xc000_0000n); // crosvm: platform MMIO right after 1 GiB of RAM
    expect(g?.irqs.map((i) => [i.gicType, i.trigger])).toEqual(pl330.irqs.map((i) => [i.gicType, i.trigger]));
    expect(g?.irqs.map((i) => i.intid)).toEqual(pl330.irqs.map((_, k) => 32 + 4 + k)); // SPIs from AARCH64_IRQ_BASE
    expect(g?.iommus.map((l) => [l.target, l.args])).toEqual(pl330.iommus.map((_, k) => ['/pviommu0', [k]]));
    const ok = validateDeviceAssignment(parseFdt(blob), dtbo, hyp, { platformPvIommuCount: 1 });
    expect(ok.map((d) => [d.nodePath, d.reg.length, d.interruptCells / 3, d.iommus.length])).toEqual([
      ['/dma-controller', 1, 9, 9],
    ]);
  });

  it('two devices on two IOMMUs, one pvIOMMU each; a DTBO without __symbols__ assigns nothing', () => {
    const { guest, dtbo, hyp } = setup([
      { label: 'dma', device: pl330 },
      { label: 'lcd', device: hdlcd },
    ]);
    expect(validateDeviceAssignment(guest, dtbo, hyp).map((d) => d.nodePath)).toEqual([
      '/dma-controller',
      '/hdlcd',
    ]);
    const noSymbols = editTree(dtbo, '/', (_n, root) => {
      root.children = root.children.filter((c) => c.name !== '__symbols__');
    });
    expect(validateDeviceAssignment(guest, noSymbols, hyp)).toEqual([]);
  });
});

describe('pvmfw validator: one broken template per error kind (pvmfw/src/device_assignment.rs)', () => {
  const { guest, dtbo, hyp } = setup();
  const v =
    (g: DeviceTree, o: DeviceTree, opts = {}) =>
    () =>
      validateDeviceAssignment(g, o, hyp, opts);
  const u32 = (n: number) => cellsValue([n]);

  it('InvalidReg: a guest reg the hypervisor maps elsewhere, or a different entry count', () => {
    const moved = editTree(guest, '/dma-controller', (n) =>
      setProp(n, prop.cells('reg', 0, 0xc000_1000, 0, 0x1000)),
    );
    expect(kindOf(v(moved, dtbo))).toBe('InvalidReg');
    const two = editTree(guest, '/dma-controller', (n) =>
      setProp(n, prop.cells('reg', 0, 0xc000_0000, 0, 0x1000, 0, 0xc000_1000, 0, 0x1000)),
    );
    expect(kindOf(v(two, dtbo))).toBe('InvalidReg');
  });
  it('MalformedReg: no reg', () => {
    const g = editTree(guest, '/dma-controller', (n) => {
      n.properties = n.properties.filter((p) => p.name !== 'reg');
    });
    expect(kindOf(v(g, dtbo))).toBe('MalformedReg');
  });
  it('InvalidInterrupts: 4 cells, or none', () => {
    expect(
      kindOf(
        v(
          editTree(guest, '/dma-controller', (n) => setProp(n, prop.cells('interrupts', 0, 4, 4, 0))),
          dtbo,
        ),
      ),
    ).toBe('InvalidInterrupts');
    const none = editTree(guest, '/dma-controller', (n) => {
      n.properties = n.properties.filter((p) => p.name !== 'interrupts');
    });
    expect(kindOf(v(none, dtbo))).toBe('InvalidInterrupts');
  });
  it('MalformedIommus: an odd cell count, or a phandle that is no pvIOMMU', () => {
    expect(
      kindOf(
        v(
          editTree(guest, '/dma-controller', (n) => setProp(n, prop.cells('iommus', 1, 2, 3))),
          dtbo,
        ),
      ),
    ).toBe('MalformedIommus');
    expect(
      kindOf(
        v(
          editTree(guest, '/dma-controller', (n) => setProp(n, prop.cells('iommus', 1, 0))),
          dtbo,
        ),
      ),
    ).toBe('MalformedIommus');
  });
  it('InvalidIommus: fewer entries than the physical device, or a vSID the hypervisor cannot map', () => {
    const phandle = readPv(guest, '/dma-controller')[0] as number;
    expect(
      kindOf(
        v(
          editTree(guest, '/dma-controller', (n) => setProp(n, prop.cells('iommus', phandle, 0))),
          dtbo,
        ),
      ),
    ).toBe('InvalidIommus');
    const wrong: number[] = [];
    for (let k = 0; k < 9; k++) wrong.push(phandle, k + 1);
    expect(
      kindOf(
        v(
          editTree(guest, '/dma-controller', (n) => setProp(n, prop.cells('iommus', ...wrong))),
          dtbo,
        ),
      ),
    ).toBe('InvalidIommus');
  });
  it('TooManyPvIommu: more pvIOMMUs than the platform DT pre-populates', () => {
    expect(kindOf(v(guest, dtbo, { platformPvIommuCount: 0 }))).toBe('TooManyPvIommu');
  });
  it('DuplicatedPvIommuIds: two pvIOMMU nodes with one id', () => {
    const g = editTree(guest, '/', (root) => {
      root.children.push({
        name: 'pviommu9',
        properties: [
          prop.strings('compatible', 'pkvm,pviommu'),
          prop.cells('id', 0),
          prop.cells('#iommu-cells', 1),
          prop.cells('phandle', 99),
        ],
        children: [],
      });
    });
    expect(kindOf(v(g, dtbo))).toBe('DuplicatedPvIommuIds');
  });
  it('InvalidPvIommu: a pvIOMMU without id or with #iommu-cells = <2>', () => {
    expect(
      kindOf(
        v(
          editTree(guest, '/pviommu0', (n) => setProp(n, { name: '#iommu-cells', value: u32(2) })),
          dtbo,
        ),
      ),
    ).toBe('InvalidPvIommu');
    const noId = editTree(guest, '/pviommu0', (n) => {
      n.properties = n.properties.filter((p) => p.name !== 'id');
    });
    expect(kindOf(v(noId, dtbo))).toBe('InvalidPvIommu');
  });
  it('DuplicatedIommuIds: two physical IOMMUs with one token', () => {
    const o = editTree(dtbo, '/host', (n) => {
      n.children.push({
        name: 'iommu9',
        properties: [
          prop.cells('#iommu-cells', 1),
          prop.cells('android,pvmfw,token', 0, 0x7fb00000),
          prop.cells('phandle', 77),
        ],
        children: [],
      });
    });
    expect(kindOf(v(guest, o))).toBe('DuplicatedIommuIds');
  });
  it('UnsupportedPhysIommu and InvalidPhysIommu: #iommu-cells 2, or none', () => {
    expect(
      kindOf(
        v(
          guest,
          editTree(dtbo, '/host/iommu0', (n) => setProp(n, prop.cells('#iommu-cells', 2))),
        ),
      ),
    ).toBe('UnsupportedPhysIommu');
    const none = editTree(dtbo, '/host/iommu0', (n) => {
      n.properties = n.properties.filter((p) => p.name !== '#iommu-cells');
    });
    expect(kindOf(v(guest, none))).toBe('InvalidPhysIommu');
  });
  it('UnsupportedIommusDuplication: two physical devices share an (IOMMU, SID) pair', () => {
    const o = editTree(dtbo, '/host', (n) => {
      n.children.push({
        name: 'other',
        properties: [
          prop.cells('reg', 0, 0x1000, 0, 0x1000),
          prop.cells('iommus', 2, 0),
          prop.cells('android,pvmfw,target', 55),
        ],
        children: [],
      });
    });
    expect(kindOf(v(guest, o))).toBe('UnsupportedIommusDuplication');
  });
  it('UnsupportedPvIommusDuplication: two assigned devices share a (pvIOMMU, vSID) pair', () => {
    const two = setup([
      { label: 'dma', device: pl330 },
      { label: 'lcd', device: hdlcd },
    ]);
    // The hdlcd's only entry becomes the PL330's first (pvIOMMU 0, vSID 0). A consistent
    // hypervisor would already refuse it (InvalidIommus); pvmfw checks the topology anyway, so
    // this hypervisor answers each device with its own physical pair, in call order.
    const g = editTree(two.guest, '/hdlcd', (n) =>
      setProp(n, prop.cells('iommus', ...readPv(two.guest, '/dma-controller'))),
    );
    const answers = [
      ...pl330.iommus.map((l) => [0x7fb0_0000n, l.args[0] ?? 0] as const),
      [0x7fb1_0000n, hdlcd.iommus[0]?.args[0] ?? 0] as const,
    ];
    const queue: DeviceAssigningHypervisor = {
      getPhysMmioToken: two.hyp.getPhysMmioToken,
      getPhysIommuToken: () => answers.shift() as readonly [bigint, number],
    };
    expect(kindOf(() => validateDeviceAssignment(g, two.dtbo, queue))).toBe('UnsupportedPvIommusDuplication');
  });
  it('UnsupportedOverlayTarget and InvalidDtbo: a fragment targeting /soc, or with no target-path', () => {
    expect(
      kindOf(
        v(
          guest,
          editTree(dtbo, '/fragment@0', (n) => setProp(n, prop.strings('target-path', '/soc'))),
        ),
      ),
    ).toBe('UnsupportedOverlayTarget');
    const none = editTree(dtbo, '/fragment@0', (n) => {
      n.properties = [];
    });
    expect(kindOf(v(guest, none))).toBe('InvalidDtbo');
  });
  it('UnsupportedPathFormat and InvalidSymbols: a relative symbol path, or one to no node', () => {
    expect(
      kindOf(
        v(
          guest,
          editTree(dtbo, '/__symbols__', (n) =>
            setProp(n, prop.strings('dma', 'fragment@0/__overlay__/dma-controller')),
          ),
        ),
      ),
    ).toBe('UnsupportedPathFormat');
    expect(
      kindOf(
        v(
          guest,
          editTree(dtbo, '/__symbols__', (n) =>
            setProp(n, prop.strings('dma', '/fragment@0/__overlay__/gone')),
          ),
        ),
      ),
    ).toBe('InvalidSymbols');
  });
  it("covers every kind except Internal, each a KernelError EINVAL with pvmfw's words", () => {
    expect(DEVICE_ASSIGNMENT_ERROR_KINDS).toHaveLength(18);
    const e = new DeviceAssignmentError('InvalidReg', 'x');
    expect(isKernelError(e, 'EINVAL')).toBe(true);
    expect(e.message).toBe('EINVAL: InvalidReg: Invalid <reg>. Failed to validate with hypervisor (x)');
  });
});

function readPv(tree: DeviceTree, path: string): number[] {
  const node = path
    .split('/')
    .filter(Boolean)
    .reduce((n, t) => n.children.find((c) => c.name === t) ?? n, tree.root);
  const v = node.properties.find((p) => p.name === 'iommus')?.value as Uint8Array;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(i * 4)).slice(0, 2);
}
