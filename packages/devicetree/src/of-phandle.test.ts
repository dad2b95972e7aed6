import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFdtError } from './fdt-error.js';
import { cellBytes, dtTree } from './of-literal.js';
import { parsePhandleList, parsePhandleWithArgs } from './of-phandle.js';
import { OfTree } from './of-tree.js';

const tree = OfTree.of(
  dtTree({
    children: {
      'smmu@0': { props: { phandle: [1], '#iommu-cells': [1] } },
      'smmu-sm@0': { props: { phandle: [2], '#iommu-cells': [2] } },
      'iommu-none@0': { props: { phandle: [3], '#iommu-cells': [0] } },
      'nocells@0': { props: { phandle: [4] } },
      'off@0': { props: { phandle: [5], '#iommu-cells': [1], status: 'disabled' } },
      master: {
        props: {
          iommus: [1, 0x10, 2, 0x20, 0x7f00, 3, 0, 1, 0x11],
          bad: [9, 1],
          missing: [4, 1],
          short: [2, 1],
          partial: new Uint8Array([0, 0, 0, 3, 0xff]),
        },
      },
    },
  }),
);
const master = tree.require('/master');

describe('phandle lists (drivers/of/base.c: of_phandle_iterator_next)', () => {
  it('sizes each entry by the target #iommu-cells, including 0 and 2, and keeps empty entries as null', () => {
    const entries = parsePhandleList(tree, master, 'iommus', '#iommu-cells');
    expect(entries.map((e) => (e === null ? null : [e.index, e.target.path, e.args]))).toEqual([
      [0, '/smmu@0', [0x10]],
      [1, '/smmu-sm@0', [0x20, 0x7f00]],
      [2, '/iommu-none@0', []],
      null,
      [4, '/smmu@0', [0x11]],
    ]);
  });

  it('an absent property is an empty list; trailing bytes that make no cell are ignored', () => {
    expect(parsePhandleList(tree, master, 'absent', '#iommu-cells')).toEqual([]);
    expect(parsePhandleList(tree, master, 'partial', '#iommu-cells').map((e) => e?.target.path)).toEqual([
      '/iommu-none@0',
    ]);
  });

  it('bad references are typed errors: BADPHANDLE, BADNCELLS, BADVALUE', () => {
    expect(() => parsePhandleList(tree, master, 'bad', '#iommu-cells')).toThrow(
      expect.objectContaining({ code: 'BADPHANDLE', path: '/master' }),
    );
    expect(() => parsePhandleList(tree, master, 'missing', '#iommu-cells')).toThrow(
      expect.objectContaining({ code: 'BADNCELLS' }),
    );
    expect(() => parsePhandleList(tree, master, 'short', '#iommu-cells')).toThrow(
      expect.objectContaining({ code: 'BADVALUE' }),
    );
  });

  it('a default cell count replaces a missing #cells property (of_msi_get_domain passes 0)', () => {
    expect(parsePhandleList(tree, master, 'missing', '#msi-cells', 0).map((e) => e?.target.path)).toEqual([
      '/nocells@0',
      '/smmu@0',
    ]);
  });
});

describe('__of_parse_phandle_with_args', () => {
  it('returns the entry at an index, undefined for an empty entry, past the end or negative', () => {
    expect(parsePhandleWithArgs(tree, master, 'iommus', '#iommu-cells', 1)?.args).toEqual([0x20, 0x7f00]);
    expect(parsePhandleWithArgs(tree, master, 'iommus', '#iommu-cells', 3)).toBeUndefined();
    expect(parsePhandleWithArgs(tree, master, 'iommus', '#iommu-cells', 5)).toBeUndefined();
    expect(parsePhandleWithArgs(tree, master, 'iommus', '#iommu-cells', -1)).toBeUndefined();
  });

  it('only parses up to the index: a broken later entry does not matter', () => {
    const t = OfTree.of(
      dtTree({ children: { p: { props: { phandle: [1], '#c': [1] } }, m: { props: { l: [1, 5, 9, 9] } } } }),
    );
    const m = t.require('/m');
    expect(parsePhandleWithArgs(t, m, 'l', '#c', 0)?.args).toEqual([5]);
    expect(() => parsePhandleWithArgs(t, m, 'l', '#c', 1)).toThrow(
      expect.objectContaining({ code: 'BADPHANDLE' }),
    );
  });
});

describe('phandle list robustness', () => {
  it('any property bytes give a list or an FdtError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 24 }),
        fc.uint8Array({ maxLength: 3 }),
        (cells, tail) => {
          const value = new Uint8Array([...cellBytes(cells), ...tail]);
          const t = OfTree.of(
            dtTree({
              children: {
                a: { props: { phandle: [1], '#x-cells': [0] } },
                b: { props: { phandle: [2], '#x-cells': [3] } },
                c: { props: { phandle: [3], '#x-cells': [17] } },
                d: { props: { phandle: [4] } },
                m: { props: { list: value } },
              },
            }),
          );
          try {
            const entries = parsePhandleList(t, t.require('/m'), 'list', '#x-cells');
            // Each entry consumes 1 + its args cells; together exactly the whole cells.
            const used = entries.reduce((n, e) => n + 1 + (e?.args.length ?? 0), 0);
            expect(used).toBe(cells.length);
          } catch (error) {
            expect(isFdtError(error)).toBe(true);
          }
        },
      ),
    );
  });
});
