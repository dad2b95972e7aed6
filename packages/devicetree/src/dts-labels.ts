// Label recovery for toDts({ labels: true }). A compiled blob keeps labels only in
// /__symbols__ (dtc -@: label -> node path); phandle references survive only as numbers.
// Which cells are phandles is known for the standard phandle-list bindings; the list is
// dtc's checks.c WARNING_PROPERTY_PHANDLE_CELLS set (plus interrupt-parent and the plain
// phandle lists), the same knowledge dtc's own checks use to validate these properties.
import { formatCell } from './dts-value.js';
import type { DeviceTree, DtNode, DtProperty } from './tree.js';

/** Name of the cell-count property of each phandle-with-arguments list property. */
const PHANDLE_ARGS: ReadonlyMap<string, string> = new Map([
  ['clocks', '#clock-cells'],
  ['cooling-device', '#cooling-cells'],
  ['dmas', '#dma-cells'],
  ['hwlocks', '#hwlock-cells'],
  ['interrupts-extended', '#interrupt-cells'],
  ['io-channels', '#io-channel-cells'],
  ['iommus', '#iommu-cells'],
  ['mboxes', '#mbox-cells'],
  ['msi-parent', '#msi-cells'],
  ['mux-controls', '#mux-control-cells'],
  ['phys', '#phy-cells'],
  ['power-domains', '#power-domain-cells'],
  ['pwms', '#pwm-cells'],
  ['resets', '#reset-cells'],
  ['sound-dai', '#sound-dai-cells'],
  ['thermal-sensors', '#thermal-sensor-cells'],
]);

/** Properties whose every cell is a phandle. */
const PHANDLE_LISTS: ReadonlySet<string> = new Set(['interrupt-parent', 'remote-endpoint', 'memory-region']);

interface Target {
  readonly node: DtNode;
  readonly path: string;
}

/** Labels per node path and phandle targets of one tree. */
export interface LabelIndex {
  labelsOf(path: string): readonly string[] | undefined;
  /** The value text with `&label` references, or undefined when the property is not a known phandle list. */
  formatReferences(node: DtNode, prop: DtProperty): string | undefined;
}

function cellsOf(value: Uint8Array): number[] | undefined {
  if (value.length === 0 || value.length % 4 !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const cells: number[] = [];
  for (let i = 0; i < value.length; i += 4) cells.push(view.getUint32(i, false));
  return cells;
}

function u32Prop(node: DtNode, name: string): number | undefined {
  const prop = node.properties.find((p) => p.name === name);
  if (prop === undefined || prop.value.length !== 4) return undefined;
  return new DataView(prop.value.buffer, prop.value.byteOffset, 4).getUint32(0, false);
}

function symbolPath(value: Uint8Array): string | undefined {
  if (value.length < 2 || value[value.length - 1] !== 0 || value[0] !== 0x2f) return undefined;
  const body = value.subarray(0, value.length - 1);
  if (body.includes(0)) return undefined;
  return String.fromCharCode.apply(null, body as unknown as number[]);
}

function isGpioList(name: string): boolean {
  // checks.c check_gpios_property(): "gpios", "*-gpios", "*-gpio", but not "nr-gpios".
  return (name === 'gpios' || name.endsWith('-gpios') || name.endsWith('-gpio')) && !name.includes('nr-gpio');
}

/** Indexes `/__symbols__` labels and `phandle` targets of `tree`. */
export function labelIndex(tree: DeviceTree): LabelIndex {
  const byPath = new Map<string, string[]>();
  const byPhandle = new Map<number, Target>();
  const symbols = tree.root.children.find((c) => c.name === '__symbols__');
  if (symbols !== undefined) {
    for (const prop of symbols.properties) {
      const path = symbolPath(prop.value);
      if (path === undefined) continue;
      const list = byPath.get(path);
      if (list === undefined) byPath.set(path, [prop.name]);
      else list.push(prop.name);
    }
  }
  const walk = (node: DtNode, path: string): void => {
    const phandle = u32Prop(node, 'phandle') ?? u32Prop(node, 'linux,phandle');
    if (phandle !== undefined && phandle !== 0 && phandle !== 0xffffffff && !byPhandle.has(phandle)) {
      byPhandle.set(phandle, { node, path });
    }
    for (const child of node.children) walk(child, path === '/' ? `/${child.name}` : `${path}/${child.name}`);
  };
  walk(tree.root, '/');

  const ref = (phandle: number): string | undefined => {
    const target = byPhandle.get(phandle);
    if (target === undefined) return undefined;
    const label = byPath.get(target.path)?.[0];
    return label === undefined ? `&{${target.path}}` : `&${label}`;
  };

  const formatReferences = (_node: DtNode, prop: DtProperty): string | undefined => {
    const cellsName = PHANDLE_ARGS.get(prop.name) ?? (isGpioList(prop.name) ? '#gpio-cells' : undefined);
    const listOnly = PHANDLE_LISTS.has(prop.name);
    if (cellsName === undefined && !listOnly) return undefined;
    const cells = cellsOf(prop.value);
    if (cells === undefined) return undefined;
    const parts: string[] = [];
    for (let i = 0; i < cells.length; ) {
      const phandle = cells[i] as number;
      // A zero phandle is an empty slot in a phandle list (of_parse_phandle_with_args()).
      if (phandle === 0) {
        parts.push(formatCell(0));
        i += 1;
        continue;
      }
      const text = ref(phandle);
      const target = byPhandle.get(phandle);
      if (text === undefined || target === undefined) return undefined;
      let argc = 0;
      if (cellsName !== undefined) {
        const n = u32Prop(target.node, cellsName);
        if (n === undefined && cellsName !== '#msi-cells') return undefined;
        argc = n ?? 0;
      }
      if (i + 1 + argc > cells.length) return undefined;
      parts.push(text);
      for (let k = 1; k <= argc; k++) parts.push(formatCell(cells[i + k] as number));
      i += 1 + argc;
    }
    return `<${parts.join(' ')}>`;
  };

  return { labelsOf: (path) => byPath.get(path), formatReferences };
}
