/**
 * Phandle-with-arguments lists (`iommus`, `dmas`, `clocks`, `resets`, `power-domains`,
 * `msi-parent`, `interrupts-extended`, …). Mirrors drivers/of/base.c:
 * of_phandle_iterator_next() and __of_parse_phandle_with_args().
 */
import { FdtError } from './fdt-error.js';
import { propertyCells } from './of-prop.js';
import type { OfNode, OfTree } from './of-tree.js';

/** drivers/of/base.c / include/linux/of.h: MAX_PHANDLE_ARGS. */
export const MAX_PHANDLE_ARGS = 16;

/** One resolved entry of a phandle list (`struct of_phandle_args`). */
export interface OfPhandleArgs {
  /** Position of the entry in the list (empty entries count). */
  readonly index: number;
  /** The phandle value. */
  readonly phandle: number;
  /** The node the phandle names. */
  readonly target: OfNode;
  /** The argument cells (`#<cells_name>` of the target). */
  readonly args: readonly number[];
}

/**
 * Walks the phandle list `listName` of `node` entry by entry, each sized by the target's
 * `cellsName` property (`#iommu-cells`, …), or by `defaultCells` when the target lacks it and
 * a default is given (of_msi_get_domain passes 0 for `#msi-cells`). A zero phandle is an
 * empty entry of one cell, yielded as `null` so indexes stay aligned with `*-names`.
 * Nothing is yielded when the property is absent.
 *
 * Throws where of_phandle_iterator_next() fails with -EINVAL, when the walk reaches the bad
 * entry: `BADPHANDLE` (no node has the phandle), `BADNCELLS` (the target has no `cellsName`
 * and there is no default, or the count is above MAX_PHANDLE_ARGS, which
 * of_phandle_iterator_args() would truncate with a WARN), `BADVALUE` (the arguments run past
 * the end of the property). Trailing bytes that do not make a whole cell are ignored, as the
 * kernel's `size / sizeof(*list)` ignores them.
 */
export function* iteratePhandles(
  tree: OfTree,
  node: OfNode,
  listName: string,
  cellsName: string,
  defaultCells?: number,
): Generator<OfPhandleArgs | null, void, undefined> {
  const property = node.property(listName);
  if (property === undefined) return;
  const cells = propertyCells(property.value);
  let at = 0;
  for (let index = 0; at < cells.length; index++) {
    const phandle = cells[at]!;
    at++;
    if (phandle === 0) {
      yield null;
      continue;
    }
    const where = { path: node.path };
    const target = tree.nodeByPhandle(phandle);
    if (target === undefined) {
      throw new FdtError(
        'BADPHANDLE',
        `${listName}[${index}]: no node has phandle 0x${phandle.toString(16)}`,
        where,
      );
    }
    let count = target.u32(cellsName);
    if (count === undefined) {
      if (defaultCells === undefined) {
        throw new FdtError('BADNCELLS', `${listName}[${index}]: ${target.path} has no ${cellsName}`, where);
      }
      count = defaultCells;
    }
    if (count > MAX_PHANDLE_ARGS) {
      throw new FdtError(
        'BADNCELLS',
        `${listName}[${index}]: ${cellsName} = ${count} of ${target.path} is above ${MAX_PHANDLE_ARGS}`,
        where,
      );
    }
    if (at + count > cells.length) {
      throw new FdtError(
        'BADVALUE',
        `${listName}[${index}]: ${cellsName} = ${count} of ${target.path} but only ${cells.length - at} cells left`,
        where,
      );
    }
    yield { index, phandle, target, args: cells.slice(at, at + count) };
    at += count;
  }
}

/** Every entry of a phandle list ({@link iteratePhandles}), `null` for empty entries; `[]` when absent. */
export function parsePhandleList(
  tree: OfTree,
  node: OfNode,
  listName: string,
  cellsName: string,
  defaultCells?: number,
): (OfPhandleArgs | null)[] {
  return [...iteratePhandles(tree, node, listName, cellsName, defaultCells)];
}

/**
 * drivers/of/base.c: __of_parse_phandle_with_args(np, list, cells, -1, index): the entry at
 * `index`, or `undefined` for an index past the end, a negative index, or an empty entry
 * (-ENOENT). Only the entries up to `index` are parsed, so a broken entry before it throws
 * (the kernel's -EINVAL) and a broken entry after it does not matter.
 */
export function parsePhandleWithArgs(
  tree: OfTree,
  node: OfNode,
  listName: string,
  cellsName: string,
  index: number,
): OfPhandleArgs | undefined {
  if (index < 0) return undefined;
  let current = 0;
  for (const entry of iteratePhandles(tree, node, listName, cellsName)) {
    if (current === index) return entry ?? undefined;
    current++;
  }
  return undefined;
}
