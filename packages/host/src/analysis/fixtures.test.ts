import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import {
  availableText,
  cellsOf,
  phandleList,
  readDtsText,
  sharedFixtures,
  statusOf,
  stringsOf,
  type TextNode,
  type TextTree,
} from '../test-support/dts-text.js';
import { analyzeHost } from './analyze.js';
import type { DependencyKind, DeviceAnalysis } from './types.js';

// The analysis of every shared fixture, checked against an independent reading of the dtc text
// beside each blob (test-support/dts-text.ts: no @vfiokit/devicetree code).
const fixtures = sharedFixtures();

const PHANDLE_KINDS: readonly [DependencyKind, string, string][] = [
  ['clock', 'clocks', '#clock-cells'],
  ['reset', 'resets', '#reset-cells'],
  ['power-domain', 'power-domains', '#power-domain-cells'],
  ['phy', 'phys', '#phy-cells'],
  ['dma', 'dmas', '#dma-cells'],
];

function dependencyNodes(device: DeviceAnalysis, kind: DependencyKind): string[] {
  return device.dependencies.filter((d) => d.kind === kind).map((d) => d.node);
}

function pinctrlStates(tree: TextTree, node: TextNode): string[] {
  const out: string[] = [];
  for (let state = 0; node.props.has(`pinctrl-${state}`); state++) {
    for (const entry of phandleList(tree, node, `pinctrl-${state}`, null)) out.push(entry.target.path);
  }
  return out;
}

// The controller an `interrupts` property goes to when no nexus (interrupt-map) is on the way:
// `interrupt-parent` on the node or its nearest ancestor (of_irq_find_parent).
function directInterruptParent(tree: TextTree, node: TextNode): TextNode | undefined {
  for (let at: TextNode | undefined = node; at !== undefined; at = at.parent) {
    const phandle = cellsOf(at, 'interrupt-parent')[0];
    if (phandle !== undefined) return tree.byPhandle.get(phandle);
  }
  return undefined;
}

const unique = (items: readonly string[]): string[] => [...new Set(items)];

describe.skipIf(fixtures.length === 0)('analysis of the shared fixtures against the dtc text', () => {
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
    const text = readDtsText(fixture.dts);
    const host = createHost(new Uint8Array(readFileSync(fixture.dtb)));
    const analysis = analyzeHost(host, { source: fixture.name });
    expect(analysis.source).toBe(fixture.name);
    const names = new Set<string>();
    for (const device of analysis.devices) {
      expect(names.has(device.name), `${device.name} twice`).toBe(false);
      names.add(device.name);
    }
    const groupIds = new Map(analysis.groups.map((g) => [g.id, g]));
    const byStream = new Map<string, number>();

    for (const device of analysis.devices) {
      const populated = host.dtDevices.find((d) => d.name === device.name);
      const path =
        populated?.path ?? [...text.nodes.keys()].find((p) => p.endsWith(`/${device.name.split('.').pop()}`));
      const node = populated === undefined ? undefined : text.nodes.get(populated.path);
      if (populated === undefined) {
        // A disabled node: not a device of the host.
        expect(device.status).not.toBe('okay');
        expect(device.assignable).toBe(false);
        expect(device.path).toBeNull();
        continue;
      }
      expect(node, `${path} in the text`).toBeDefined();
      if (node === undefined) continue;
      expect(device.status).toBe('okay');
      expect(availableText(node)).toBe(true);
      expect(device.compatible).toEqual(stringsOf(node, 'compatible'));

      // IOMMU: the first `iommus` entry's IOMMU, the stream IDs (first argument) on it.
      const iommus = phandleList(text, node, 'iommus', '#iommu-cells');
      const first = iommus[0];
      if (first === undefined || !availableText(first.target)) expect(device.iommu).toBeNull();
      else {
        expect(device.iommu?.node).toBe(first.target.path);
        const sids = unique(
          iommus.filter((e) => e.target === first.target && e.args.length > 0).map((e) => String(e.args[0])),
        ).map(Number);
        expect(device.iommu?.streamIds).toEqual(sids);
        // Devices whose stream IDs meet on one IOMMU share a group (arm-smmu S2CR sharing).
        const group = device.iommu?.group;
        if (group !== null && group !== undefined) {
          expect(groupIds.get(group)?.devices).toContain(device.name);
          expect(groupIds.get(group)?.iommu).toBe(first.target.path);
          for (const sid of sids) {
            const key = `${first.target.path}#${sid}`;
            const earlier = byStream.get(key);
            if (earlier !== undefined) expect(group, `${device.name} shares ${key}`).toBe(earlier);
            else byStream.set(key, group);
          }
        }
      }
      if (device.path === 'smmu') expect(device.iommu).not.toBeNull();

      // MSI: the `msi-parent` controller; isolated on this 6.12 host only under a GICv3 ITS.
      const msiParent =
        phandleList(text, node, 'msi-parent', '#msi-cells')[0] ??
        (cellsOf(node, 'msi-parent').length > 0
          ? { target: text.byPhandle.get(cellsOf(node, 'msi-parent')[0] as number) as TextNode, args: [] }
          : undefined);
      if (msiParent === undefined || msiParent.target === undefined) expect(device.msi).toBeNull();
      else {
        expect(device.msi?.parent).toBe(msiParent.target.path);
        const its =
          stringsOf(msiParent.target, 'compatible').includes('arm,gic-v3-its') &&
          !stringsOf(msiParent.target, 'compatible').includes('socionext,synquacer-pre-its') &&
          availableText(msiParent.target) &&
          msiParent.target.props.has('msi-controller');
        expect(device.msi?.isolated, `${device.name} msi`).toBe(its);
      }

      // Dependencies: each phandle list's targets, in order, once each.
      for (const [kind, list, cells] of PHANDLE_KINDS) {
        const expected = unique(phandleList(text, node, list, cells).map((e) => e.target.path));
        expect(dependencyNodes(device, kind), `${device.name} ${kind}`).toEqual(expected);
      }
      for (const dependency of device.dependencies.filter((d) => d.kind === 'clock')) {
        const provider = text.nodes.get(dependency.node) as TextNode;
        const fixed = ['fixed-clock', 'fixed-factor-clock'].some((c) =>
          stringsOf(provider, 'compatible').includes(c),
        );
        expect(dependency.owner).toBe(fixed ? 'irrelevant' : 'host');
      }
      expect(dependencyNodes(device, 'pinctrl')).toEqual(unique(pinctrlStates(text, node)));
      if (!node.props.has('interrupts-extended') && node.props.has('interrupts')) {
        const parent = directInterruptParent(text, node);
        if (parent?.props.has('interrupt-controller') && !parent.props.has('interrupt-map')) {
          for (const found of dependencyNodes(device, 'interrupt-parent')) expect(found).toBe(parent.path);
        }
      }

      // Reset: a module exactly for the built-in modules' compatibles (first compatible).
      const compatible = device.compatible[0];
      expect(device.reset?.provider).toBe(
        compatible === 'calxeda,hb-xgmac' || compatible === 'amd,xgbe-seattle-v1a' ? 'module' : 'none',
      );

      // Paths: only the IOMMU path for a device behind an available IOMMU; never one without MMIO.
      if (device.path !== null && device.path !== 'smmu') expect(device.iommu).toBeNull();
      if (node.props.has('#iommu-cells')) expect(device.path).toBeNull();
      if (!node.props.has('reg')) expect(device.assignable).toBe(false);
      if (device.assignable) {
        expect(device.path).not.toBeNull();
        expect(device.requires.every((r) => r.startsWith('unbind '))).toBe(true);
      }
      if (device.bus === 'amba' && device.path !== null && device.path !== 'emulated')
        expect(device.reasons.some((r) => r.includes('vfio-amba is deprecated'))).toBe(true);
    }
    // Groups: ids unique and ascending, members are analysed devices behind that group.
    const ids = analysis.groups.map((g) => g.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const group of analysis.groups) {
      for (const member of group.devices) {
        const device = analysis.devices.find((d) => d.name === member);
        expect(device?.iommu?.group).toBe(group.id);
      }
    }
    // Disabled nodes are reported with their status.
    for (const device of analysis.devices.filter((d) => d.status !== 'okay')) {
      const match = [...text.nodes.values()].find(
        (n) =>
          statusOf(n) === device.status && stringsOf(n, 'compatible').join() === device.compatible.join(),
      );
      expect(match, `${device.name} disabled in the text`).toBeDefined();
    }
  });
});
