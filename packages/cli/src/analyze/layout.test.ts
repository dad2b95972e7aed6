import { readFileSync } from 'node:fs';
import { analyzeHost, buildDemoSoc, createHost } from '@vfiokit/host';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnalysisGraph, analysisGraph } from './graph.js';
import { layoutGraph } from './layout.js';

// A graph dagre's compound layout cannot route ("Not possible to find intersection inside of
// the rectangle"): delta-debugged from Linux 6.12's exynos5250-smdk5250.dtb analysis.
const failing = JSON.parse(
  readFileSync(new URL('../test-support/dagre-compound-failure.json', import.meta.url), 'utf8'),
) as AnalysisGraph;

describe('layoutGraph (dagre)', () => {
  it('places every node and edge of the demo SoC, groups as clusters', () => {
    const graph = analysisGraph(analyzeHost(createHost(buildDemoSoc())));
    const layout = layoutGraph(graph);
    expect(layout.nodes).toHaveLength(graph.nodes.length);
    expect(layout.edges).toHaveLength(graph.edges.length);
    expect(layout.clusters.map((c) => c.label)).toEqual(['IOMMU group 0', 'IOMMU group 1', 'IOMMU group 2']);
    for (const node of layout.nodes) {
      expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width / 2).toBeLessThanOrEqual(layout.width);
    }
  });

  it('falls back to a layout without clusters when the compound layout fails', () => {
    const layout = layoutGraph(failing);
    expect(layout.nodes).toHaveLength(failing.nodes.length);
    expect(layout.clusters).toEqual([]);
  });

  it('no two device boxes overlap (property over subsets of the demo graph)', () => {
    const graph = analysisGraph(analyzeHost(createHost(buildDemoSoc())));
    fc.assert(
      fc.property(fc.subarray([...graph.nodes], { minLength: 1 }), (nodes) => {
        const ids = new Set(nodes.map((n) => n.id));
        const sub = { nodes, edges: graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
        const placed = layoutGraph(sub).nodes;
        for (const a of placed) {
          for (const b of placed) {
            if (a === b) continue;
            const apart =
              Math.abs(a.x - b.x) >= (a.width + b.width) / 2 - 0.5 ||
              Math.abs(a.y - b.y) >= (a.height + b.height) / 2 - 0.5;
            expect(apart, `${a.node.id} ${b.node.id}`).toBe(true);
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});
