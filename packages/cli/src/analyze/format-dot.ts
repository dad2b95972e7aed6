import type { HostAnalysis } from '@vfiokit/host';
import { type AnalysisGraph, analysisGraph, type GraphNode, SHADE_COLOURS } from './graph.js';

const KIND_STYLE: Readonly<Record<Exclude<GraphNode['kind'], 'device'>, string>> = {
  iommu: 'shape=box3d, style=filled, fillcolor="#bbdefb"',
  group: 'shape=folder, style=filled, fillcolor="#e3f2fd"',
  msi: 'shape=hexagon, style=filled, fillcolor="#e1bee7"',
  resource: 'shape=component, style=filled, fillcolor="#fff9c4"',
};

/** A DOT string literal: backslash and quote escaped, newlines as `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

function nodeLine(node: GraphNode): string {
  const style =
    node.kind === 'device'
      ? `shape=box, style="rounded,filled", fontcolor=white, fillcolor=${dotString(SHADE_COLOURS[node.shade ?? 'blocked'])}`
      : KIND_STYLE[node.kind];
  return `${node.id} [label=${dotString(node.label)}, ${style}];`;
}

/**
 * Graphviz DOT: SMMUs, each IOMMU group as a cluster holding its group node and member
 * devices, MSI controllers, the resources that stay with the host, and devices filled by
 * what the analysis concluded (green assignable, orange needs settings, red no path, grey
 * disabled). `dot -Tsvg` draws it.
 */
export function formatDot(analysis: HostAnalysis, graph: AnalysisGraph = analysisGraph(analysis)): string {
  const lines = [
    'digraph vfiokit {',
    `  label=${dotString(`vfiokit analyze: ${analysis.source}`)};`,
    '  rankdir=LR; fontname="Helvetica"; node [fontname="Helvetica", fontsize=10]; edge [fontsize=8];',
  ];
  const grouped = new Map<number, GraphNode[]>();
  for (const node of graph.nodes) {
    if (node.group === undefined) continue;
    grouped.set(node.group, [...(grouped.get(node.group) ?? []), node]);
  }
  const inCluster = new Set<string>();
  for (const [id, members] of grouped) {
    lines.push(`  subgraph cluster_g${id} {`, `    label=${dotString(`IOMMU group ${id}`)}; style=dashed;`);
    for (const member of members) {
      lines.push(`    ${nodeLine(member)}`);
      inCluster.add(member.id);
    }
    lines.push('  }');
  }
  for (const node of graph.nodes) if (!inCluster.has(node.id)) lines.push(`  ${nodeLine(node)}`);
  for (const edge of graph.edges) {
    const label = edge.label === '' ? '' : ` [label=${dotString(edge.label)}]`;
    lines.push(`  ${edge.from} -> ${edge.to}${label};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
