import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { type DtDevice, OfTree } from '@vfiokit/devicetree';
import type { Host } from '../host.js';
import { type DeviceFacts, decide } from './decide.js';
import { dependenciesOf } from './dependencies.js';
import { disabledDevices } from './disabled.js';
import { dmaFactsOf } from './dma-facts.js';
import { type DeviceIommu, deviceIommu, iommuGroups } from './iommu-groups.js';
import { hostMsi } from './msi.js';
import { providerRoles } from './providers.js';
import { resetOf } from './reset.js';
import { analysisSettings } from './settings.js';
import type { AnalysisGroup, AnalyzeOptions, DeviceAnalysis, HostAnalysis } from './types.js';

const ANALYZE_OPTION_KEYS: readonly (keyof AnalyzeOptions & string)[] = ['source'];

/**
 * What this host can pass through, device by device: the DMA verdict, IOMMU and group, MSI
 * parent and isolation, reset provider, the path (`smmu`, `emulated`, `noiommu` or none),
 * whether it is assignable with the host's settings, what it would need, why, and the
 * resources that stay with the host. Devices are the ones of_platform_populate() created
 * (in creation order), then the disabled nodes that would have become devices. Reads the host
 * and leaves it as it was.
 */
export function analyzeHost(host: Host, options: AnalyzeOptions = {}): HostAnalysis {
  rejectUnknownOptions(options, ANALYZE_OPTION_KEYS, 'analyzeHost');
  if (options.source !== undefined && typeof options.source !== 'string')
    throw new KernelError('EINVAL', 'analyzeHost: source must be a string');
  const tree = OfTree.of(host.tree);
  const kernel = host.params.profile.version;
  const statusOf = (path: string) => tree.find(path)?.string('status');
  const enabled = host.dtDevices;
  const disabled = disabledDevices(host.tree, enabled, kernel, statusOf);
  const all: readonly DtDevice[] = [...enabled, ...disabled.map((d) => d.device)];
  const statusByPath = new Map(disabled.map((d) => [d.device.path, d.status]));

  // The host's own policy (the one the RFC's vfio-platform asks at probe), so the two agree.
  const policy = host.dmaPolicy;
  const msi = hostMsi(host.tree, all, kernel);
  const iommus = new Map<string, DeviceIommu>();
  for (const device of enabled) {
    const iommu = deviceIommu(device);
    if (iommu !== undefined) iommus.set(device.name, iommu);
  }
  const memberships = iommuGroups(host, enabled, iommus);
  const groupOf = new Map<string, number>();
  const fromTree = new Set<number>();
  for (const group of memberships) {
    for (const name of group.devices) groupOf.set(name, group.id);
    if (group.formedFromTree) fromTree.add(group.id);
  }
  const roles = providerRoles(tree, enabled, msi.controllers);

  const facts = new Map<string, DeviceFacts>();
  for (const device of all) {
    const node = tree.find(device.path);
    const status = statusByPath.get(device.path) ?? 'okay';
    const iommu = status === 'okay' ? iommus.get(device.name) : deviceIommu(device);
    facts.set(device.name, {
      device,
      status,
      dma: policy.assessFacts(dmaFactsOf(tree, node, device)),
      iommu: iommu ?? null,
      group: groupOf.get(device.name) ?? null,
      groupFromTree: fromTree.has(groupOf.get(device.name) ?? -1),
      msiParent: msi.parentOf(device) ?? null,
      msiIsolated: msi.isolated(device),
      reset: status === 'okay' ? resetOf(host.resets, device) : null,
      // An IOMMU stays with the host even when no platform device names it (a PCIe SMMU
      // reached through `iommu-map`): handing it over would end isolation for all its masters.
      role: roles.get(device.path) ?? (node?.has('#iommu-cells') === true ? 'an IOMMU (#iommu-cells)' : null),
      dependencies: dependenciesOf(tree, device, node),
      hostDriver: hostDriverOf(host, device),
      noRequestIrqs: device.irqs.flatMap((irq) =>
        irq.intid !== undefined && host.irqChip.isNoRequest(irq.intid) ? [irq.intid] : [],
      ),
    });
  }

  const settings = analysisSettings(host);
  // A group is viable when every member can leave the host: none of them is a device the host
  // itself needs (vfio_group_viable: each member unbound or bound to vfio).
  const groups: AnalysisGroup[] = memberships.map((group) => ({
    id: group.id,
    iommu: group.iommu,
    devices: group.devices,
    viable: group.devices.every((name) => facts.get(name)?.role === null),
  }));
  const devices: DeviceAnalysis[] = all.map((device) => {
    const own = facts.get(device.name) as DeviceFacts;
    const group = own.group === null ? undefined : groups.find((g) => g.id === own.group);
    const members = (group?.devices ?? []).map((name) => facts.get(name) as DeviceFacts);
    return decide(own, members, settings, host.params.profile.version);
  });
  return { source: options.source ?? 'device tree', settings, devices, groups };
}

// The driver bound to the device when the analysis runs (the host booted: its drivers probed).
function hostDriverOf(host: Host, device: DtDevice): DeviceFacts['hostDriver'] {
  const name = host.device(device.name)?.driverName ?? null;
  if (name === null) return null;
  const spec = host.core.bus(device.bus).driver(name);
  return { name, unbindable: spec?.suppressBindAttrs !== true };
}
