/**
 * A read-only, indexed view of a {@link DeviceTree} with the kernel's `struct device_node`
 * lookups: parent links, full paths, phandles, aliases and raw property access.
 *
 * Mirrors drivers/of/base.c (of_find_node_opts_by_path, of_find_node_by_phandle,
 * of_device_is_compatible, of_device_is_available) and drivers/of/fdt.c (phandle capture
 * while unflattening). Values stay raw bytes; readers in of-prop.ts interpret them.
 */
import { FdtError } from './fdt-error.js';
import { bytesToString, propertyString, propertyStrings, propertyU32 } from './of-prop.js';
import type { DeviceTree, DtNode, DtProperty } from './tree.js';

/** One node of an {@link OfTree}: the `struct device_node` the kernel builds from the blob. */
export class OfNode {
  /** The node in the data model. */
  readonly node: DtNode;
  /** The parent node; `undefined` for the root. */
  readonly parent: OfNode | undefined;
  /** Full path (`/soc/serial@fff36000`; `/` for the root), as `%pOF` prints it. */
  readonly path: string;
  /** Child nodes in blob order. */
  readonly children: readonly OfNode[];
  /** Depth below the root (root = 0). */
  readonly depth: number;
  readonly #properties: ReadonlyMap<string, DtProperty>;
  readonly #strings = new Map<string, readonly string[]>();
  #compatibleLower: ReadonlySet<string> | undefined;

  /** @internal Built by {@link OfTree}; not for direct use. */
  constructor(node: DtNode, parent: OfNode | undefined, children: OfNode[]) {
    this.node = node;
    this.parent = parent;
    this.depth = parent === undefined ? 0 : parent.depth + 1;
    this.path =
      parent === undefined
        ? '/'
        : parent.parent === undefined
          ? `/${node.name}`
          : `${parent.path}/${node.name}`;
    this.children = children;
    // drivers/of/base.c: __of_find_property() returns the first property with the name
    // (a malformed blob can repeat one), so the first occurrence wins.
    const properties = new Map<string, DtProperty>();
    for (const property of node.properties) {
      if (!properties.has(property.name)) properties.set(property.name, property);
    }
    this.#properties = properties;
  }

  /** The node's full name (`serial@fff36000`; `''` for the root), `kbasename(np->full_name)`. */
  get fullName(): string {
    return this.node.name;
  }

  /** The name without the unit address (`serial`), what `%pOFn` prints. */
  get name(): string {
    const at = this.node.name.indexOf('@');
    return at < 0 ? this.node.name : this.node.name.slice(0, at);
  }

  /** The unit address after `@`, or `undefined`. */
  get unitAddress(): string | undefined {
    const at = this.node.name.indexOf('@');
    return at < 0 ? undefined : this.node.name.slice(at + 1);
  }

  /** The first property called `name` (drivers/of/base.c: of_find_property). */
  property(name: string): DtProperty | undefined {
    return this.#properties.get(name);
  }

  /** Whether the property exists (`of_property_read_bool`, which is true even for a non-empty value). */
  has(name: string): boolean {
    return this.#properties.has(name);
  }

  /** `of_property_read_u32`: the first cell, or `undefined` when absent or shorter than 4 bytes. */
  u32(name: string): number | undefined {
    const property = this.#properties.get(name);
    return property === undefined ? undefined : propertyU32(property.value, 0);
  }

  /** `of_property_read_string`: the first NUL-terminated string, or `undefined` when absent or unterminated. */
  string(name: string): string | undefined {
    const property = this.#properties.get(name);
    return property === undefined ? undefined : propertyString(property.value);
  }

  /** The strings of a string-list property (`compatible`, `reg-names`, …); `[]` when absent. */
  strings(name: string): readonly string[] {
    // Parsed once per property: name lists are read per index while resolving a device.
    let strings = this.#strings.get(name);
    if (strings === undefined) {
      const property = this.#properties.get(name);
      strings = property === undefined ? [] : propertyStrings(property.value);
      this.#strings.set(name, strings);
    }
    return strings;
  }

  /** The `compatible` strings, most specific first. */
  get compatible(): readonly string[] {
    return this.strings('compatible');
  }

  /**
   * drivers/of/base.c: __of_device_is_compatible() compares with of_compat_cmp(), which is
   * strcasecmp() outside sparc: compatible matching ignores ASCII case.
   */
  isCompatible(compatible: string): boolean {
    if (this.#compatibleLower === undefined) this.#compatibleLower = new Set(this.compatible.map(asciiLower));
    return this.#compatibleLower.has(asciiLower(compatible));
  }

  /** drivers/of/base.c: of_node_name_eq(): the name up to `@` equals `name`. */
  nameIs(name: string): boolean {
    return this.name === name;
  }

  /**
   * drivers/of/base.c: __of_device_is_available(): true when `status` is absent, `"okay"` or
   * `"ok"` (compared as C strings, so a value with an embedded NUL compares by its first string);
   * an empty `status` property is not available.
   */
  get available(): boolean {
    const status = this.#properties.get('status');
    if (status === undefined) return true;
    if (status.value.length === 0) return false;
    const text = cString(status.value);
    return text === 'okay' || text === 'ok';
  }
}

function asciiLower(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : text;
}

// strcmp() on the property bytes: up to the first NUL, or the whole value when there is none
// (the kernel would read past it; treating the end as a NUL is the safe reading).
function cString(value: Uint8Array): string {
  const end = value.indexOf(0);
  return bytesToString(end < 0 ? value : value.subarray(0, end));
}

const VIEWS = new WeakMap<object, OfTree>();

/** The indexed tree: paths, phandles and aliases resolved once. */
export class OfTree {
  /** The root node (`of_root`). */
  readonly root: OfNode;
  /** Every node in depth-first pre-order (`for_each_of_allnodes`). */
  readonly nodes: readonly OfNode[];
  readonly #byPhandle: ReadonlyMap<number, OfNode>;
  readonly #byDtNode: ReadonlyMap<DtNode, OfNode>;

  private constructor(root: DtNode) {
    const nodes: OfNode[] = [];
    const byDtNode = new Map<DtNode, OfNode>();
    // Iterative build: a hostile tree may be deep enough to overflow the JS stack.
    const build = (node: DtNode, parent: OfNode | undefined): OfNode => new OfNode(node, parent, []);
    const rootView = build(root, undefined);
    const stack: OfNode[] = [rootView];
    while (stack.length > 0) {
      const current = stack.pop()!;
      nodes.push(current);
      byDtNode.set(current.node, current);
      const children = current.children as OfNode[];
      for (const child of current.node.children) children.push(build(child, current));
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
    this.root = rootView;
    this.nodes = nodes;
    this.#byDtNode = byDtNode;
    // drivers/of/fdt.c: populate_properties() takes the phandle from "phandle" or the legacy
    // "linux,phandle" (the first one seen wins); of_find_node_by_phandle() walks all nodes in
    // order, so with duplicates the first node in pre-order is found. Phandle 0 is never found.
    const byPhandle = new Map<number, OfNode>();
    for (const node of nodes) {
      const phandle = node.u32('phandle') ?? node.u32('linux,phandle');
      if (phandle !== undefined && phandle !== 0 && !byPhandle.has(phandle)) byPhandle.set(phandle, node);
    }
    this.#byPhandle = byPhandle;
  }

  /** The view of `tree` (cached per tree object, so repeated calls are cheap). */
  static of(tree: DeviceTree | DtNode): OfTree {
    const key: object = tree;
    let view = VIEWS.get(key);
    if (view === undefined) {
      view = new OfTree('root' in tree ? tree.root : tree);
      VIEWS.set(key, view);
    }
    return view;
  }

  /** The view of a node of the data model, or `undefined` when it is not in this tree. */
  viewOf(node: DtNode): OfNode | undefined {
    return this.#byDtNode.get(node);
  }

  /** drivers/of/base.c: of_find_node_by_phandle(); `undefined` for 0 or an unknown phandle. */
  nodeByPhandle(phandle: number): OfNode | undefined {
    return phandle === 0 ? undefined : this.#byPhandle.get(phandle);
  }

  /** The phandle of a node (`np->phandle`), or `undefined`. */
  phandleOf(node: OfNode): number | undefined {
    const phandle = node.u32('phandle') ?? node.u32('linux,phandle');
    return phandle === undefined || phandle === 0 ? undefined : phandle;
  }

  /**
   * drivers/of/base.c: of_find_node_opts_by_path(). `path` is a full path (`/soc/uart@1000`),
   * or starts with an alias from `/aliases` (`serial0`, `serial0/child`); anything after `:`
   * is options and ends the match. Components compare with the full name, unit address included.
   */
  find(path: string): OfNode | undefined {
    return this.#find(path, new Set());
  }

  #find(path: string, aliasesSeen: Set<string>): OfNode | undefined {
    const colon = path.indexOf(':');
    const match = colon < 0 ? path : path.slice(0, colon);
    if (match === '/') return this.root;
    if (match.startsWith('/')) return this.#walk(this.root, match);
    // With options (':'), the kernel takes everything before ':' as the alias name, so
    // "alias/child:opts" finds nothing; without, the alias ends at the first '/'.
    const slash = colon >= 0 ? -1 : match.indexOf('/');
    const alias = slash < 0 ? match : match.slice(0, slash);
    // An alias whose value is another alias recurses in the kernel; a loop finds nothing here.
    if (alias.length === 0 || aliasesSeen.has(alias)) return undefined;
    aliasesSeen.add(alias);
    const aliases = this.#childByFullName(this.root, 'aliases');
    const target = aliases?.node.properties.find((property) => property.name === alias);
    if (target === undefined) return undefined;
    const start = this.#find(cString(target.value), aliasesSeen);
    if (start === undefined) return undefined;
    const rest = slash < 0 ? '' : match.slice(slash);
    return rest === '' ? start : this.#walk(start, rest);
  }

  /** The `/aliases` entries whose value resolves to a node, as of_alias_scan() records them. */
  aliases(): ReadonlyMap<string, OfNode> {
    const result = new Map<string, OfNode>();
    const aliases = this.#childByFullName(this.root, 'aliases');
    if (aliases === undefined) return result;
    for (const property of aliases.node.properties) {
      // drivers/of/base.c: of_alias_scan() skips these bookkeeping properties.
      if (property.name === 'name' || property.name === 'phandle' || property.name === 'linux,phandle')
        continue;
      const node = this.find(cString(property.value));
      if (node !== undefined) result.set(property.name, node);
    }
    return result;
  }

  /** The node a path must name exactly, or an {@link FdtError} `BADPATH`/`NOTFOUND`. */
  require(path: string): OfNode {
    if (path.length === 0) throw new FdtError('BADPATH', 'empty path');
    const node = this.find(path);
    if (node === undefined) throw new FdtError('NOTFOUND', `no node at ${JSON.stringify(path)}`, { path });
    return node;
  }

  // drivers/of/base.c: __of_find_node_by_full_path(): step down one component per '/'.
  #walk(start: OfNode, path: string): OfNode | undefined {
    let node: OfNode | undefined = start;
    let rest = path;
    while (node !== undefined && rest.startsWith('/')) {
      rest = rest.slice(1);
      const slash = rest.indexOf('/');
      const component = slash < 0 ? rest : rest.slice(0, slash);
      // __of_find_node_by_path(): an empty component finds nothing.
      node = component.length === 0 ? undefined : this.#childByFullName(node, component);
      rest = slash < 0 ? '' : rest.slice(slash);
    }
    return node;
  }

  #childByFullName(node: OfNode, fullName: string): OfNode | undefined {
    return node.children.find((child) => child.fullName === fullName);
  }
}
