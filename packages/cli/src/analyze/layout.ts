import dagre from '@dagrejs/dagre';
import type { AnalysisGraph, GraphNode } from './graph.js';

/** A laid-out node: its centre and size (SVG user units). */
export interface PlacedNode {
  readonly node: GraphNode;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly label: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** Where dagre put the label (it reserves room for it), when the edge has one. */
  readonly labelAt: { readonly x: number; readonly y: number } | undefined;
}

export interface PlacedCluster {
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
  readonly clusters: readonly PlacedCluster[];
}

const CHAR_WIDTH = 6.2;
const LINE_HEIGHT = 14;

/** The box a label needs at 11px sans-serif, with padding. */
function sizeOf(label: string): { width: number; height: number } {
  const lines = label.split('\n');
  const longest = Math.max(...lines.map((line) => line.length));
  return { width: Math.ceil(longest * CHAR_WIDTH) + 20, height: lines.length * LINE_HEIGHT + 12 };
}

/**
 * Lays the graph out with dagre (@dagrejs/dagre, a layered Sugiyama layout): left to right,
 * IOMMU groups as compound clusters around their members. The picture is not placed by hand.
 */
export function layoutGraph(graph: AnalysisGraph): GraphLayout {
  try {
    return layoutWith(graph, true);
  } catch (error) {
    // dagre's compound layout can fail to route an edge into a cluster member ("Not possible
    // to find intersection inside of the rectangle", seen on exynos5250 and mt8195 boards):
    // lay the same graph out without the group clusters; the group nodes still show membership.
    if (!(error instanceof Error)) throw error;
    return layoutWith(graph, false);
  }
}

function layoutWith(graph: AnalysisGraph, clustered: boolean): GraphLayout {
  const g = new dagre.graphlib.Graph({ compound: clustered, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 60, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const groups = new Set<number>();
  for (const node of graph.nodes) {
    g.setNode(node.id, { ...sizeOf(node.label) });
    if (node.group !== undefined) groups.add(node.group);
  }
  if (clustered) {
    for (const id of groups) g.setNode(`cluster_${id}`, { label: `IOMMU group ${id}` });
    for (const node of graph.nodes)
      if (node.group !== undefined) g.setParent(node.id, `cluster_${node.group}`);
  }
  for (const edge of graph.edges) {
    const room =
      edge.label === '' ? {} : { width: Math.ceil(edge.label.length * 5), height: 10, labelpos: 'c' };
    g.setEdge(edge.from, edge.to, { label: edge.label, ...room });
  }
  dagre.layout(g);
  const label = g.graph();
  const nodes: PlacedNode[] = graph.nodes.map((node) => {
    const placed = g.node(node.id);
    return { node, x: placed.x, y: placed.y, width: placed.width, height: placed.height };
  });
  const clusters: PlacedCluster[] = (clustered ? [...groups] : []).map((id) => {
    const placed = g.node(`cluster_${id}`);
    return {
      label: `IOMMU group ${id}`,
      x: placed.x,
      y: placed.y,
      width: placed.width,
      height: placed.height,
    };
  });
  const edges: PlacedEdge[] = graph.edges.map((edge) => {
    const placed = g.edge(edge.from, edge.to);
    const labelAt =
      edge.label !== '' && placed.x !== undefined && placed.y !== undefined
        ? { x: placed.x, y: placed.y }
        : undefined;
    return { label: edge.label, points: placed.points ?? [], labelAt };
  });
  return { width: label.width ?? 0, height: label.height ?? 0, nodes, edges, clusters };
}
