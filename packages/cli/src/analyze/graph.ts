import type { DeviceAnalysis, HostAnalysis } from '@vfiokit/host';

/** How a device looks in the pictures: by what the analysis concluded. */
export type DeviceShade = 'assignable' | 'needs' | 'blocked' | 'disabled';

/** The colour of each shade (the table, dot, mermaid and html use the same meaning). */
export const SHADE_COLOURS: Readonly<Record<DeviceShade, string>> = {
  assignable: '#2e7d32',
  needs: '#ef6c00',
  blocked: '#c62828',
  disabled: '#9e9e9e',
};

export const SHADE_TEXT: Readonly<Record<DeviceShade, string>> = {
  assignable: 'assignable',
  needs: 'needs settings',
  blocked: 'no path',
  disabled: 'disabled',
};

/** assignable; a path that needs settings; no path (or the host needs it); disabled node. */
export function shadeOf(device: DeviceAnalysis): DeviceShade {
  if (device.status !== 'okay') return 'disabled';
  if (device.assignable) return 'assignable';
  return device.path === null ? 'blocked' : 'needs';
}

export type GraphNodeKind = 'device' | 'iommu' | 'group' | 'msi' | 'resource';

export interface GraphNode {
  /** A stable identifier safe in dot, mermaid and SVG (`n0`, `n1`, …). */
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly label: string;
  /** The IOMMU group a device belongs to, or a group node's own id (drawn in the group's cluster). */
  readonly group?: number;
  readonly shade?: DeviceShade;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

export interface AnalysisGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/**
 * The picture's graph: devices (coloured by shade), the IOMMUs and their groups (a group
 * node per group, linked to its IOMMU; devices link to their group), the MSI controllers
 * devices signal to, and the resources that stay with the host (clock, reset, power, PHY, DMA,
 * pin and non-GIC interrupt providers). Irrelevant dependencies (fixed clocks, the GIC) are
 * left out: they change nothing.
 */
export function analysisGraph(analysis: HostAnalysis): AnalysisGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const ids = new Map<string, string>();
  const idOf = (key: string, make: (id: string) => GraphNode): string => {
    const known = ids.get(key);
    if (known !== undefined) return known;
    const id = `n${ids.size}`;
    ids.set(key, id);
    nodes.push(make(id));
    return id;
  };
  for (const group of analysis.groups) {
    const iommu = idOf(`iommu:${group.iommu}`, (id) => ({
      id,
      kind: 'iommu',
      label: shortPath(group.iommu),
    }));
    const node = idOf(`group:${group.id}`, (id) => ({
      id,
      kind: 'group',
      group: group.id,
      label: `group ${group.id}${group.viable ? '' : ' (not viable)'}`,
    }));
    edges.push({ from: node, to: iommu, label: 'iommu' });
  }
  for (const device of analysis.devices) {
    const shade = shadeOf(device);
    const group = device.iommu?.group ?? undefined;
    const id = idOf(`device:${device.name}`, (nid) => ({
      id: nid,
      kind: 'device',
      label: `${device.name}\n${device.path ?? 'no path'}`,
      shade,
      ...(group === undefined || group === null ? {} : { group }),
    }));
    if (group !== undefined && group !== null)
      edges.push({ from: id, to: idOf(`group:${group}`, missing), label: '' });
    if (device.msi !== null) {
      const msi = idOf(`msi:${device.msi.parent}`, (nid) => ({
        id: nid,
        kind: 'msi',
        label: shortPath(device.msi?.parent ?? ''),
      }));
      edges.push({ from: id, to: msi, label: device.msi.isolated ? 'MSI (isolated)' : 'MSI (not isolated)' });
    }
    for (const dependency of device.dependencies) {
      if (dependency.owner !== 'host') continue;
      const resource = idOf(`resource:${dependency.node}`, (nid) => ({
        id: nid,
        kind: 'resource',
        label: shortPath(dependency.node),
      }));
      edges.push({ from: id, to: resource, label: dependency.kind });
    }
  }
  return { nodes, edges: dedupe(edges) };
}

// A group referenced by a device is always listed in `groups`; this only satisfies idOf.
function missing(id: string): GraphNode {
  return { id, kind: 'group', label: 'group' };
}

function dedupe(edges: readonly GraphEdge[]): GraphEdge[] {
  const seen = new Map<string, GraphEdge>();
  for (const edge of edges) {
    const key = `${edge.from}>${edge.to}`;
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, edge);
    else if (!earlier.label.split(', ').includes(edge.label))
      seen.set(key, { ...earlier, label: `${earlier.label}, ${edge.label}` });
  }
  return [...seen.values()];
}

/** The last component of a node path (`/soc/iommu@2b400000` → `iommu@2b400000`). */
export function shortPath(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last === '' ? path : last;
}
