import { describe, expect, it } from 'vitest';
import { dmaParent, isDmaCoherent } from './of-dma.js';
import { dtTree } from './of-literal.js';
import { OfTree } from './of-tree.js';

describe('DMA coherency (drivers/of/address.c: of_dma_is_coherent, __of_get_dma_parent)', () => {
  const view = OfTree.of(
    dtTree({
      children: {
        'noc@0': { props: { phandle: [1], '#interconnect-cells': [1], 'dma-coherent': true } },
        'loop@0': {
          props: {
            phandle: [2],
            '#interconnect-cells': [0],
            'interconnect-names': 'dma-mem',
            interconnects: [2],
          },
        },
        'bus@0': {
          props: { 'dma-coherent': true },
          children: {
            inherits: {},
            opts: { props: { 'dma-noncoherent': true } },
            'via-noc': { props: { 'interconnect-names': ['cpu', 'dma-mem'], interconnects: [1, 5, 1, 7] } },
          },
        },
        plain: {},
        'to-loop': { props: { 'interconnect-names': 'dma-mem', interconnects: [2] } },
        'broken-ic': { props: { 'interconnect-names': 'dma-mem', interconnects: [9, 1] } },
      },
    }),
  );
  const coherent = (path: string): boolean => isDmaCoherent(view, view.require(path));

  it('dma-coherent on a bus covers its children; dma-noncoherent on the way stops the walk', () => {
    expect(coherent('/bus@0/inherits')).toBe(true);
    expect(coherent('/bus@0/opts')).toBe(false);
  });

  it('defaults to not coherent on arm64 (no CONFIG_ARCH_DMA_DEFAULT_COHERENT), or to the given default', () => {
    expect(coherent('/plain')).toBe(false);
    expect(isDmaCoherent(view, view.require('/plain'), true)).toBe(true);
  });

  it('follows the "dma-mem" interconnect as the DMA parent; a broken one falls back to the tree parent', () => {
    expect(dmaParent(view, view.require('/bus@0/via-noc'))?.path).toBe('/noc@0');
    expect(dmaParent(view, view.require('/broken-ic'))?.path).toBe('/');
    expect(dmaParent(view, view.require('/plain'))?.path).toBe('/');
  });

  it('a DMA parent chain that loops is CYCLE, not a hang', () => {
    expect(() => coherent('/to-loop')).toThrow(expect.objectContaining({ code: 'CYCLE' }));
  });
});
