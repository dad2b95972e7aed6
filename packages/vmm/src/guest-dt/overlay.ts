// Applying a device-tree overlay (DTBO) to a base tree, as libfdt's fdt_overlay_apply()
// (scripts/dtc/libfdt/fdt_overlay.c) does it, in its order:
//  1. delta = fdt_get_max_phandle(base); every `phandle`/`linux,phandle` of the overlay += delta
//     (overlay_adjust_local_phandles);
//  2. each u32 that `/__local_fixups__` lists (same node path, property name, byte offsets)
//     += delta (overlay_update_local_references);
//  3. each `/__fixups__` entry `label = "path:prop:offset", …` gets the phandle of the base
//     node that the base's `/__symbols__` names (overlay_fixup_phandles; a label missing from
//     the base, or a node without phandle, is FDT_ERR_NOTFOUND);
//  4. each `/fragment/__overlay__` is merged into its `target` (phandle) or `target-path`
//     (overlay_merge → overlay_apply_node: properties set, subnodes added or merged). libfdt
//     inserts a new property right after the node's FDT_BEGIN_NODE and a new subnode before
//     the first existing child, so new items land in front, in reverse order;
//  5. `/__symbols__` entries pointing into a fragment's `__overlay__` are added to the base's
//     `/__symbols__` with the target path (overlay_symbol_update).
// Fragments without `__overlay__` (such as a VM DTBO's `/host`) are not applied.
//
// crosvm (cros_fdt/src/overlay.rs apply_overlay(base, overlay, filter_symbols)) can restrict
// an overlay to some labels "and their dependencies": `symbols` does that here — a selected
// node is kept whole, a node it references by phandle (through `__local_fixups__`) is kept
// without its children, and their ancestors keep their properties but only the needed
// children (docs/device_assignment.md: "siblings or children nodes of dependencies are
// ignored unless explicitly referenced").
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { type DeviceTree, FdtError } from '@vfiokit/devicetree';
import {
  cellsValue,
  deepCopy,
  findNode,
  getProp,
  type MutableNode,
  maxPhandle,
  nodeByPhandle,
  pathTokens,
  phandleOf,
  readCells,
  readStrings,
  setProp,
  walk,
  withRoot,
} from './dt-edit.js';

/** Options of {@link applyOverlay}. Unknown keys are refused (`EINVAL`). */
export interface ApplyOverlayOptions {
  /** crosvm's `filter_symbols`: apply only these labels of the overlay and their dependencies. */
  readonly symbols?: readonly string[];
}

const enc = new TextEncoder();

function addU32At(
  node: MutableNode,
  propName: string,
  offset: number,
  f: (v: number) => number,
  where: string,
): void {
  const i = node.properties.findIndex((p) => p.name === propName);
  const p = node.properties[i];
  if (p === undefined || offset % 4 !== 0 || offset + 4 > p.value.length)
    throw new FdtError('BADOVERLAY', `${where}: no u32 at ${propName}:${offset}`);
  const value = p.value.slice();
  const v = new DataView(value.buffer);
  v.setUint32(offset, f(v.getUint32(offset, false)) >>> 0, false);
  node.properties[i] = { name: propName, value };
}

// `filtered`: nodes and properties crosvm's filter removed are skipped, not errors.
function updateLocalReferences(
  ov: MutableNode,
  fixups: MutableNode,
  delta: number,
  path: string,
  filtered: boolean,
): void {
  for (const p of fixups.properties) {
    if (filtered && getProp(ov, p.name) === undefined) continue;
    for (const off of readCells(p.value))
      addU32At(ov, p.name, off, (x) => x + delta, `__local_fixups__${path}`);
  }
  for (const c of fixups.children) {
    const target = ov.children.find((n) => n.name === c.name);
    if (target === undefined) {
      if (filtered) continue;
      throw new FdtError('BADOVERLAY', `__local_fixups__${path}/${c.name} has no node in the overlay`);
    }
    updateLocalReferences(target, c, delta, `${path}/${c.name}`, filtered);
  }
}

function fragmentTarget(base: MutableNode, fragment: MutableNode, fragPath: string): [MutableNode, string] {
  const t = getProp(fragment, 'target');
  if (t !== undefined) {
    const found = nodeByPhandle(base, readCells(t)[0] ?? 0);
    if (found === undefined)
      throw new FdtError('NOTFOUND', `${fragPath}: target phandle not in the base tree`);
    return found;
  }
  const tp = getProp(fragment, 'target-path');
  if (tp === undefined) throw new FdtError('BADOVERLAY', `${fragPath} has neither target nor target-path`);
  const path = readStrings(tp)[0] ?? '';
  const node = findNode(base, path);
  if (node === undefined)
    throw new FdtError('NOTFOUND', `${fragPath}: target-path ${path} not in the base tree`);
  return [node, path];
}

function applyNode(target: MutableNode, ov: MutableNode): void {
  for (const p of ov.properties) {
    const i = target.properties.findIndex((q) => q.name === p.name);
    if (i >= 0) target.properties[i] = p;
    else target.properties.unshift(p);
  }
  for (const c of ov.children) {
    let t = target.children.find((n) => n.name === c.name);
    if (t === undefined) {
      t = { name: c.name, properties: [], children: [] };
      target.children.unshift(t);
    }
    applyNode(t, c);
  }
}

/** Paths of nodes referenced by phandle from inside `path` (via __local_fixups__). */
function referencedFrom(ov: MutableNode, localFixups: MutableNode | undefined, path: string): string[] {
  if (localFixups === undefined) return [];
  const out: string[] = [];
  const fixNode = findNode(localFixups, path);
  const ovNode = findNode(ov, path);
  if (fixNode === undefined || ovNode === undefined) return out;
  for (const [fn, rel] of walk(fixNode)) {
    const on = findNode(ovNode, rel);
    if (on === undefined) continue;
    for (const p of fn.properties) {
      const value = getProp(on, p.name);
      if (value === undefined) continue;
      for (const off of readCells(p.value)) {
        const ph = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(off, false);
        const found = nodeByPhandle(ov, ph);
        if (found !== undefined) out.push(found[1]);
      }
    }
  }
  return out;
}

function filterOverlay(ov: MutableNode, symbols: readonly string[]): void {
  const sym = findNode(ov, '/__symbols__');
  const localFixups = findNode(ov, '/__local_fixups__');
  const whole = new Set<string>();
  const shallow = new Set<string>();
  for (const label of symbols) {
    const v = sym === undefined ? undefined : getProp(sym, label);
    if (v === undefined) throw new KernelError('ENOENT', `labels ${label} not found in overlay files`);
    whole.add(readStrings(v)[0] ?? '');
  }
  const queue = [...whole];
  while (queue.length > 0) {
    const p = queue.pop() as string;
    for (const dep of referencedFrom(ov, localFixups, p)) {
      if (!whole.has(dep) && !shallow.has(dep)) {
        shallow.add(dep);
        queue.push(dep);
      }
    }
  }
  const keep = (path: string): 'whole' | 'shallow' | 'path' | 'drop' => {
    if ([...whole].some((w) => path === w || path.startsWith(`${w}/`))) return 'whole';
    if (shallow.has(path)) return 'shallow';
    if ([...whole, ...shallow].some((w) => w.startsWith(`${path}/`))) return 'path';
    return 'drop';
  };
  const prune = (node: MutableNode, path: string): void => {
    node.children = node.children.filter((c) => {
      const k = keep(`${path}/${c.name}`);
      if (k === 'drop') return false;
      if (k === 'shallow')
        c.children = c.children.filter((g) => keep(`${path}/${c.name}/${g.name}`) !== 'drop');
      if (k === 'path' || k === 'shallow') prune(c, `${path}/${c.name}`);
      return true;
    });
  };
  for (const frag of ov.children) {
    const o = frag.children.find((c) => c.name === '__overlay__');
    if (o === undefined) continue;
    // A fragment with nothing selected is not applied at all (not even its properties).
    if (keep(`/${frag.name}/__overlay__`) === 'drop') frag.children = frag.children.filter((c) => c !== o);
    else prune(o, `/${frag.name}/__overlay__`);
  }
}

/**
 * Applies `overlay` to `base` as fdt_overlay_apply() does (see the file comment); returns the
 * new tree and leaves both inputs unchanged. Errors are FdtError with libfdt's codes.
 */
export function applyOverlay(
  base: DeviceTree,
  overlay: DeviceTree,
  options: ApplyOverlayOptions = {},
): DeviceTree {
  rejectUnknownOptions(options, ['symbols'], 'applyOverlay');
  const root = deepCopy(base.root);
  const ov = deepCopy(overlay.root);
  if (options.symbols !== undefined) filterOverlay(ov, options.symbols);
  // 1. overlay_adjust_local_phandles
  const delta = maxPhandle(root);
  for (const [n] of walk(ov)) {
    for (const name of ['phandle', 'linux,phandle']) {
      const v = getProp(n, name);
      if (v === undefined) continue;
      const ph = readCells(v)[0] ?? 0;
      if (ph === 0 || ph === 0xffff_ffff)
        throw new FdtError('BADPHANDLE', `overlay phandle 0x${ph.toString(16)}`);
      if (ph + delta > 0xffff_fffe) throw new FdtError('NOPHANDLES', 'overlay phandles overflow');
      setProp(n, { name, value: cellsValue([ph + delta]) });
    }
  }
  // 2. overlay_update_local_references
  const local = ov.children.find((c) => c.name === '__local_fixups__');
  if (local !== undefined) updateLocalReferences(ov, local, delta, '', options.symbols !== undefined);
  // 3. overlay_fixup_phandles
  const fixups = ov.children.find((c) => c.name === '__fixups__');
  if (fixups !== undefined) {
    const baseSymbols = findNode(root, '/__symbols__');
    for (const p of fixups.properties) {
      const symPath = baseSymbols === undefined ? undefined : getProp(baseSymbols, p.name);
      if (symPath === undefined)
        throw new FdtError('NOTFOUND', `__fixups__: label ${p.name} is not in the base tree's __symbols__`);
      const node = findNode(root, readStrings(symPath)[0] ?? '');
      const ph = node === undefined ? undefined : phandleOf(node);
      if (ph === undefined)
        throw new FdtError('NOTFOUND', `__fixups__: ${p.name} (${readStrings(symPath)[0]}) has no phandle`);
      for (const entry of readStrings(p.value)) {
        const m = /^(\/[^:]*):([^:]+):(\d+)$/.exec(entry);
        if (m === null)
          throw new FdtError('BADOVERLAY', `__fixups__: ${p.name} entry ${JSON.stringify(entry)}`);
        const target = findNode(ov, m[1] as string);
        if (target === undefined && options.symbols !== undefined) continue;
        if (target === undefined) throw new FdtError('BADOVERLAY', `__fixups__: no overlay node ${m[1]}`);
        addU32At(target, m[2] as string, Number(m[3]), () => ph, '__fixups__');
      }
    }
  }
  // 4. overlay_merge
  const targets = new Map<string, string>();
  for (const frag of ov.children) {
    const o = frag.children.find((c) => c.name === '__overlay__');
    if (o === undefined) continue;
    const [target, targetPath] = fragmentTarget(root, frag, `/${frag.name}`);
    targets.set(frag.name, targetPath);
    applyNode(target, o);
  }
  // 5. overlay_symbol_update
  const ovSymbols = ov.children.find((c) => c.name === '__symbols__');
  if (ovSymbols !== undefined) {
    let sym = root.children.find((c) => c.name === '__symbols__');
    for (const p of ovSymbols.properties) {
      const path = readStrings(p.value)[0] ?? '';
      if (!path.startsWith('/')) throw new FdtError('BADVALUE', `__symbols__/${p.name} is not a path`);
      const [frag, ov2, ...rest] = pathTokens(path);
      if (frag === undefined || ov2 !== '__overlay__') continue;
      const tp = targets.get(frag);
      if (tp === undefined) continue;
      // A filtered-out node leaves no symbol behind (crosvm filters dangling labels too).
      if (options.symbols !== undefined && findNode(ov, path) === undefined) continue;
      if (sym === undefined) {
        sym = { name: '__symbols__', properties: [], children: [] };
        root.children.unshift(sym);
      }
      const full = rest.length === 0 ? tp : `${tp === '/' ? '' : tp}/${rest.join('/')}`;
      const value = enc.encode(`${full}\0`);
      const i = sym.properties.findIndex((q) => q.name === p.name);
      if (i >= 0) sym.properties[i] = { name: p.name, value };
      else sym.properties.unshift({ name: p.name, value });
    }
  }
  return withRoot(base, root);
}
