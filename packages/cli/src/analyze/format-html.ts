import type { DeviceAnalysis, HostAnalysis } from '@vfiokit/host';
import {
  type AnalysisGraph,
  analysisGraph,
  type DeviceShade,
  SHADE_COLOURS,
  SHADE_TEXT,
  shadeOf,
} from './graph.js';
import { type GraphLayout, layoutGraph } from './layout.js';

/** Text as XML/HTML character data or an attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const KIND_FILL: Readonly<Record<string, string>> = {
  iommu: '#bbdefb',
  group: '#e3f2fd',
  msi: '#e1bee7',
  resource: '#fff9c4',
};

function svg(layout: GraphLayout): string {
  const parts: string[] = [];
  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height);
  parts.push(
    `<svg id="picture" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="devices, IOMMU groups, MSI controllers and host resources">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
  );
  for (const cluster of layout.clusters) {
    const x = cluster.x - cluster.width / 2;
    const y = cluster.y - cluster.height / 2;
    parts.push(
      `<g class="cluster"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${cluster.width.toFixed(1)}" height="${cluster.height.toFixed(1)}" rx="6" fill="none" stroke="#90a4ae" stroke-dasharray="4 3"/>` +
        `<text x="${(x + 6).toFixed(1)}" y="${(y + 11).toFixed(1)}" class="cluster-label">${escapeHtml(cluster.label)}</text></g>`,
    );
  }
  for (const edge of layout.edges) {
    const d = edge.points
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
      .join(' ');
    parts.push(`<path class="edge" d="${d}" fill="none" stroke="#777" marker-end="url(#arrow)"/>`);
    const middle = edge.points[Math.floor(edge.points.length / 2)];
    if (edge.label !== '' && middle !== undefined)
      parts.push(
        `<text class="edge-label" x="${middle.x.toFixed(1)}" y="${(middle.y - 3).toFixed(1)}">${escapeHtml(edge.label)}</text>`,
      );
  }
  for (const placed of layout.nodes) {
    const { node } = placed;
    const x = placed.x - placed.width / 2;
    const y = placed.y - placed.height / 2;
    const fill =
      node.kind === 'device' ? SHADE_COLOURS[node.shade ?? 'blocked'] : (KIND_FILL[node.kind] ?? '#eee');
    const textColour = node.kind === 'device' ? '#fff' : '#222';
    const lines = node.label.split('\n');
    const text = lines
      .map(
        (line, i) =>
          `<tspan x="${placed.x.toFixed(1)}" y="${(y + 18 + i * 14).toFixed(1)}">${escapeHtml(line)}</tspan>`,
      )
      .join('');
    parts.push(
      `<g class="node ${node.kind}"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${placed.width.toFixed(1)}" height="${placed.height.toFixed(1)}" rx="${node.kind === 'device' ? 6 : 2}" fill="${fill}" stroke="#333"/>` +
        `<text text-anchor="middle" fill="${textColour}">${text}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function list(items: readonly string[]): string {
  return items.length === 0
    ? '—'
    : `<ul>${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
}

function row(device: DeviceAnalysis): string {
  const shade = shadeOf(device);
  const iommu =
    device.iommu === null
      ? '—'
      : `${escapeHtml(device.iommu.node)} [${device.iommu.streamIds.join(', ')}] group ${device.iommu.group ?? '—'}`;
  const msi =
    device.msi === null
      ? '—'
      : `${escapeHtml(device.msi.parent)} (${device.msi.isolated ? 'isolated' : 'not isolated'})`;
  const reset =
    device.reset === null
      ? '—'
      : `${device.reset.provider}${device.reset.name === null ? '' : ` ${escapeHtml(device.reset.name)}`}`;
  const host = device.dependencies.filter((d) => d.owner === 'host').map((d) => `${d.kind} ${d.node}`);
  return `<tr class="${shade}">
<td><code>${escapeHtml(device.name)}</code><br><small>${escapeHtml(device.compatible.join(', '))}</small></td>
<td>${device.bus}</td><td>${escapeHtml(device.status)}</td>
<td title="${escapeHtml(device.dma.reason)}">${device.dma.verdict}</td>
<td>${iommu}</td><td>${msi}</td><td>${reset}</td>
<td>${device.path ?? '—'}</td><td class="verdict">${SHADE_TEXT[shade]}</td>
<td>${list(device.requires)}</td><td>${list([`DMA: ${device.dma.reason}`, ...device.reasons])}</td><td>${list(host)}</td>
</tr>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f5f5f5}ul{margin:0;padding-left:1.1em}small{color:#555}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:4px;color:#fff}
.picture{overflow:auto;border:1px solid #ddd;padding:6px}
svg text{font:11px sans-serif}svg .edge-label{font-size:9px;fill:#555}svg .cluster-label{font-size:10px;fill:#607d8b}
${(['assignable', 'needs', 'blocked', 'disabled'] as DeviceShade[])
  .map((shade) => `tr.${shade} td.verdict{color:#fff;background:${SHADE_COLOURS[shade]}}`)
  .join('\n')}
`;

/**
 * One self-contained HTML page: the settings, a legend, the picture (an inline SVG laid out by
 * dagre at generation time, so the page needs no script and no network), the table with each
 * device's requirements, reasons and host resources, and the IOMMU groups.
 */
export function formatHtml(analysis: HostAnalysis, graph: AnalysisGraph = analysisGraph(analysis)): string {
  const legend = (['assignable', 'needs', 'blocked', 'disabled'] as DeviceShade[])
    .map((shade) => `<span style="background:${SHADE_COLOURS[shade]}">${SHADE_TEXT[shade]}</span>`)
    .join('');
  const settings = Object.entries(analysis.settings)
    .map(([key, value]) => `<code>${escapeHtml(key)}=${escapeHtml(JSON.stringify(value))}</code>`)
    .join(' ');
  const groups = analysis.groups
    .map(
      (g) =>
        `<tr><td>${g.id}</td><td>${escapeHtml(g.iommu)}</td><td>${escapeHtml(g.devices.join(', '))}</td><td>${g.viable ? 'yes' : 'no'}</td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vfiokit analyze: ${escapeHtml(analysis.source)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>vfiokit analyze: ${escapeHtml(analysis.source)}</h1>
<p>Settings: ${settings}</p>
<p class="legend">${legend}</p>
<h2>Picture</h2>
<div class="picture">
${svg(layoutGraph(graph))}
</div>
<h2>Devices</h2>
<table id="devices">
<thead><tr><th>device</th><th>bus</th><th>status</th><th>DMA</th><th>IOMMU</th><th>MSI</th><th>reset</th><th>path</th><th>verdict</th><th>requires</th><th>reasons</th><th>stays with the host</th></tr></thead>
<tbody>
${analysis.devices.map(row).join('\n')}
</tbody>
</table>
<h2>IOMMU groups</h2>
<table id="groups">
<thead><tr><th>id</th><th>IOMMU</th><th>devices</th><th>viable</th></tr></thead>
<tbody>
${groups}
</tbody>
</table>
</body>
</html>
`;
}
