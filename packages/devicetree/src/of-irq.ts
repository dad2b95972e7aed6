/**
 * Interrupt resolution: from a node's `interrupts` / `interrupts-extended` to the interrupt
 * controller node and its specifier, through `interrupt-parent` inheritance and
 * `interrupt-map` nexus nodes. Mirrors drivers/of/irq.c (v6.12+): of_irq_find_parent(),
 * of_irq_parse_imap_parent(), of_irq_parse_raw(), of_irq_parse_one() and of_irq_count().
 *
 * Where the kernel would loop forever on a malformed tree (an `interrupt-parent` chain or an
 * `interrupt-map` walk that comes back to where it was), these throw FdtError `CYCLE`.
 */
import { FdtError } from './fdt-error.js';
import { maskedKey, nexusTable } from './of-irq-map.js';
import { iteratePhandles, MAX_PHANDLE_ARGS } from './of-phandle.js';
import { propertyCells, propertyU32 } from './of-prop.js';
import type { OfNode, OfTree } from './of-tree.js';

/** A resolved interrupt: the controller node and the specifier cells it decodes. */
export interface OfIrqSpec {
  /** The interrupt controller (a node with `interrupt-controller`). */
  readonly controller: OfNode;
  /** The specifier in the controller's `#interrupt-cells` format. */
  readonly args: readonly number[];
}

/**
 * drivers/of/irq.c (v6.12): of_irq_imap_abusers[]: controllers whose drivers parse their own
 * `interrupt-map` (and the PA Semi Nemo root bus, whose map is broken), so of_irq_parse_raw()
 * stops at them as plain controllers.
 */
const IMAP_ABUSERS = [
  'CBEA,platform-spider-pic',
  'sti,platform-spider-pic',
  'realtek,rtl-intc',
  'fsl,ls1021a-extirq',
  'fsl,ls1043a-extirq',
  'fsl,ls1088a-extirq',
  'renesas,rza1-irqc',
  'pasemi,rootbus',
];

/**
 * drivers/of/irq.c: of_irq_find_parent(): follow `interrupt-parent` (or the tree parent when
 * there is none) until a node with `#interrupt-cells`. `undefined` when the walk leaves the
 * root. Throws `BADPHANDLE` for an `interrupt-parent` no node has (the kernel ends with NULL)
 * and `CYCLE` for a chain of `interrupt-parent`s without `#interrupt-cells` that loops (the
 * kernel never returns).
 */
export function findInterruptParent(tree: OfTree, child: OfNode): OfNode | undefined {
  const seen = new Set<OfNode>([child]);
  let node = child;
  for (;;) {
    const phandle = node.u32('interrupt-parent');
    let next: OfNode | undefined;
    if (phandle === undefined) {
      next = node.parent;
    } else {
      next = tree.nodeByPhandle(phandle);
      if (next === undefined) {
        throw new FdtError('BADPHANDLE', `interrupt-parent 0x${phandle.toString(16)} names no node`, {
          path: node.path,
        });
      }
    }
    if (next === undefined || next.has('#interrupt-cells')) return next;
    if (seen.has(next)) {
      throw new FdtError('CYCLE', `interrupt-parent chain loops at ${next.path}`, { path: child.path });
    }
    seen.add(next);
    node = next;
  }
}

// The "old linux trick" of of_irq_parse_raw(): #address-cells of the node or the nearest
// ancestor that has one, 2 when none has.
function irqAddressCells(node: OfNode): number {
  for (let current: OfNode | undefined = node; current !== undefined; current = current.parent) {
    const property = current.property('#address-cells');
    if (property !== undefined) return propertyU32(property.value, 0) ?? 0;
  }
  return 2;
}

/**
 * drivers/of/irq.c: of_irq_parse_raw(): walk from the specifier's node to the interrupt
 * controller, translating through `interrupt-map` (with `interrupt-map-mask`) on the way.
 * `addr` is the device's unit address (the first `reg` cells), used to match map entries.
 */
export function parseIrqRaw(
  tree: OfTree,
  addr: readonly number[],
  spec: OfIrqSpec,
  where: OfNode,
): OfIrqSpec {
  const at = { path: where.path };
  let ipar: OfNode | undefined = spec.controller;
  let args = spec.args;
  let intsize: number | undefined;
  // First find #interrupt-cells, walking up interrupt parents when the cursor has none.
  while (ipar !== undefined) {
    intsize = ipar.u32('#interrupt-cells');
    if (intsize !== undefined) break;
    ipar = findInterruptParent(tree, ipar);
  }
  if (ipar === undefined || intsize === undefined) {
    throw new FdtError('NOTFOUND', 'no interrupt controller above the interrupt specifier', at);
  }
  if (args.length !== intsize) {
    throw new FdtError('BADNCELLS', `specifier has ${args.length} cells, ${ipar.path} wants ${intsize}`, at);
  }
  let addrsize = irqAddressCells(ipar);
  if (addrsize + intsize > MAX_PHANDLE_ARGS) {
    throw new FdtError(
      'BADNCELLS',
      `#address-cells ${addrsize} + #interrupt-cells ${intsize} of ${ipar.path}`,
      at,
    );
  }
  let matchArray: number[] = [];
  for (let i = 0; i < addrsize; i++) matchArray.push(addr[i] ?? 0);
  matchArray.push(...args);

  // Every step is determined by (cursor, match array): seeing a state twice means the kernel
  // would walk this loop forever.
  const seen = new Map<OfNode, Set<string>>();
  for (;;) {
    const state = `${addrsize}|${matchArray.join(',')}`;
    const states = seen.get(ipar) ?? new Set<string>();
    if (states.has(state)) throw new FdtError('CYCLE', `interrupt-map walk loops at ${ipar.path}`, at);
    states.add(state);
    seen.set(ipar, states);

    const intc = ipar.has('interrupt-controller');
    const imap = ipar.property('interrupt-map');
    // A controller ends the walk unless it also has an interrupt-map (which takes
    // precedence), except for the few drivers that parse their own map.
    if (intc && (imap === undefined || IMAP_ABUSERS.some((c) => ipar!.isCompatible(c)))) {
      return { controller: ipar, args };
    }
    if (imap === undefined) {
      const next = findInterruptParent(tree, ipar);
      if (next === undefined) {
        throw new FdtError('NOTFOUND', `no interrupt controller above ${ipar.path}`, at);
      }
      ipar = next;
      continue;
    }
    const childSize = addrsize + intsize;
    const table = nexusTable(tree, ipar, imap.value, addrsize, intsize);
    const key = maskedKey(matchArray, table.mask, childSize);
    const matched = table.entries.get(key);
    if (matched === undefined) {
      // The scan reached a malformed entry before any match: the kernel fails there.
      if (table.error !== undefined) {
        throw new FdtError(table.error.code, `interrupt-map of ${ipar.path}: ${table.error.message}`, at);
      }
      // No entry matches: `goto fail`, also on a node that is an interrupt-controller too
      // (the fallback to the node as a plain controller is gone from mainline before v6.12).
      throw new FdtError('NOTFOUND', `no interrupt-map entry of ${ipar.path} matches`, at);
    }
    matchArray = matched.cells;
    intsize = matched.intsize;
    addrsize = matched.addrsize;
    args = matched.cells.slice(matched.addrsize);
    // "interrupt-map entry to self": the nexus is also the controller.
    if (matched.parent === ipar) return { controller: ipar, args };
    ipar = matched.parent;
  }
}

// of_irq_parse_one(): the first 12 bytes of `reg` (zero-padded) are the unit address used
// for interrupt-map matching (the v6.11+ fix against reading past a short `reg`).
function unitAddress(node: OfNode): number[] {
  const reg = node.property('reg');
  const bytes = new Uint8Array(12);
  if (reg !== undefined) bytes.set(reg.value.subarray(0, 12));
  return [propertyU32(bytes, 0)!, propertyU32(bytes, 1)!, propertyU32(bytes, 2)!];
}

// The interrupts of one node, with its lists parsed once (parsing `interrupts-extended`
// again for every index, as the kernel does, would be quadratic on a hostile blob).
class IrqSource {
  readonly #tree: OfTree;
  readonly #node: OfNode;
  readonly #addr: number[];
  #extended: (OfIrqSpec | null)[] | undefined;
  #extendedError: unknown;
  #interrupts:
    | { readonly parent: OfNode; readonly intsize: number; readonly cells: number[] }
    | null
    | undefined;

  constructor(tree: OfTree, node: OfNode) {
    this.#tree = tree;
    this.#node = node;
    this.#addr = unitAddress(node);
  }

  at(index: number): OfIrqSpec | undefined {
    if (index < 0) return undefined;
    const node = this.#node;
    if (node.has('interrupts-extended')) {
      const extended = this.#parseExtended();
      const entry = extended[index];
      if (entry !== undefined && entry !== null) return parseIrqRaw(this.#tree, this.#addr, entry, node);
      // Past the parsed entries because of a broken one: the kernel falls back to
      // `interrupts` on any failure; without one, the broken reference is the answer.
      if (entry === undefined && this.#extendedError !== undefined && !node.has('interrupts')) {
        throw this.#extendedError;
      }
    }
    const interrupts = this.#parseInterrupts();
    if (interrupts === null) return undefined;
    const { parent, intsize, cells } = interrupts;
    if ((index + 1) * intsize > cells.length) return undefined;
    const args = cells.slice(index * intsize, (index + 1) * intsize);
    return parseIrqRaw(this.#tree, this.#addr, { controller: parent, args }, node);
  }

  #parseExtended(): (OfIrqSpec | null)[] {
    if (this.#extended !== undefined) return this.#extended;
    const extended: (OfIrqSpec | null)[] = [];
    try {
      for (const entry of iteratePhandles(
        this.#tree,
        this.#node,
        'interrupts-extended',
        '#interrupt-cells',
      )) {
        extended.push(entry === null ? null : { controller: entry.target, args: entry.args });
      }
    } catch (error) {
      this.#extendedError = error;
    }
    this.#extended = extended;
    return extended;
  }

  #parseInterrupts(): { parent: OfNode; intsize: number; cells: number[] } | null {
    if (this.#interrupts !== undefined) return this.#interrupts;
    const node = this.#node;
    const property = node.property('interrupts');
    if (property === undefined) {
      this.#interrupts = null;
      return null;
    }
    const parent = findInterruptParent(this.#tree, node);
    if (parent === undefined) {
      this.#interrupts = null;
      return null;
    }
    const intsize = parent.u32('#interrupt-cells');
    if (intsize === undefined) {
      throw new FdtError('BADNCELLS', `interrupt parent ${parent.path} has an unreadable #interrupt-cells`, {
        path: node.path,
      });
    }
    // With #interrupt-cells = 0 every index would succeed and of_irq_count() would never end.
    if (intsize === 0) {
      throw new FdtError('BADNCELLS', `interrupt parent ${parent.path} has #interrupt-cells = 0`, {
        path: node.path,
      });
    }
    this.#interrupts = { parent, intsize, cells: propertyCells(property.value) };
    return this.#interrupts;
  }
}

/**
 * drivers/of/irq.c: of_irq_parse_one(): the `index`-th interrupt of `node`, from
 * `interrupts-extended` when it has that entry, else from `interrupts` with the interrupt
 * parent's `#interrupt-cells`. `undefined` when there is no such interrupt (where the kernel
 * returns an error that ends of_irq_count()). Malformed references throw FdtError.
 */
export function parseIrq(tree: OfTree, node: OfNode, index: number): OfIrqSpec | undefined {
  return new IrqSource(tree, node).at(index);
}

/**
 * The interrupts of `node` by index (0, 1, …), each resolved as {@link parseIrq} does but
 * with the node's lists parsed once; `at(i)` throws FdtError for a malformed reference.
 */
export function irqResolver(tree: OfTree, node: OfNode): { at(index: number): OfIrqSpec | undefined } {
  return new IrqSource(tree, node);
}

/** drivers/of/irq.c: of_irq_count() as a list: interrupts from index 0 up to the first that does not parse. */
export function parseIrqs(tree: OfTree, node: OfNode): OfIrqSpec[] {
  const source = new IrqSource(tree, node);
  const irqs: OfIrqSpec[] = [];
  for (;;) {
    const irq = source.at(irqs.length);
    if (irq === undefined) return irqs;
    irqs.push(irq);
  }
}
