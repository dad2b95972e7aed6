import type { HostAnalysis } from '@vfiokit/host';
import {
  type AnalysisGraph,
  analysisGraph,
  type DeviceShade,
  type GraphNode,
  SHADE_COLOURS,
} from './graph.js';

/** A mermaid label: quotes and markup characters as entities, newlines as `<br/>`. */
export function mermaidLabel(text: string): string {
  const escaped = text
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/\r?\n/g, '<br/>');
  return `"${escaped}"`;
}

function shape(node: GraphNode): string {
  const label = mermaidLabel(node.label);
  switch (node.kind) {
    case 'iommu':
      return `${node.id}[[${label}]]`;
    case 'group':
      return `${node.id}[/${label}/]`;
    case 'msi':
      return `${node.id}{{${label}}}`;
    case 'resource':
      return `${node.id}[(${label})]`;
    default:
      return `${node.id}(${label})`;
  }
}

const SHADES: readonly DeviceShade[] = ['assignable', 'needs', 'blocked', 'disabled'];

/**
 * A mermaid flowchart of the same graph as {@link formatDot}: groups as subgraphs, devices as
 * rounded boxes coloured by what the analysis concluded (classDef per shade).
 */
export function formatMermaid(
  analysis: HostAnalysis,
  graph: AnalysisGraph = analysisGraph(analysis),
): string {
  const lines = ['flowchart LR'];
  const inGroup = new Set<string>();
  for (const group of analysis.groups) {
    const members = graph.nodes.filter((n) => n.group === group.id);
    lines.push(`  subgraph g${group.id}[${mermaidLabel(`IOMMU group ${group.id}`)}]`);
    for (const node of members) {
      lines.push(`    ${shape(node)}`);
      inGroup.add(node.id);
    }
    lines.push('  end');
  }
  for (const node of graph.nodes) if (!inGroup.has(node.id)) lines.push(`  ${shape(node)}`);
  for (const edge of graph.edges) {
    lines.push(
      edge.label === ''
        ? `  ${edge.from} --> ${edge.to}`
        : `  ${edge.from} -->|${mermaidLabel(edge.label)}| ${edge.to}`,
    );
  }
  for (const shade of SHADES) {
    lines.push(`  classDef ${shade} fill:${SHADE_COLOURS[shade]},color:#fff,stroke:#333`);
    const members = graph.nodes.filter((n) => n.kind === 'device' && n.shade === shade).map((n) => n.id);
    if (members.length > 0) lines.push(`  class ${members.join(',')} ${shade}`);
  }
  return `${lines.join('\n')}\n`;
}
