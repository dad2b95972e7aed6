// Test support: an independent reading of a device tree from the text `dtc -I dtb -O dts`
// printed (the shared fixtures' .dts files) — no @vfiokit/devicetree code — so that tests can
// check the analysis against what the text says.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TextNode {
  readonly path: string;
  readonly parent: TextNode | undefined;
  readonly props: Map<string, string>;
}

export interface TextTree {
  readonly nodes: Map<string, TextNode>;
  readonly byPhandle: Map<number, TextNode>;
}

/** Reads dtc's DTS output: one node per `name {` line, properties as their raw value text. */
export function readDtsText(text: string): TextTree {
  const nodes = new Map<string, TextNode>();
  const stack: TextNode[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.endsWith('{')) {
      const name = line
        .slice(0, -1)
        .trim()
        .replace(/^[A-Za-z_][\w]*:\s*/, '');
      const parent = stack[stack.length - 1];
      const path = parent === undefined ? '/' : parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
      const node: TextNode = { path, parent, props: new Map() };
      nodes.set(path, node);
      stack.push(node);
    } else if (line === '};') {
      stack.pop();
    } else if (line.endsWith(';') && stack.length > 0) {
      const body = line.slice(0, -1);
      const eq = body.indexOf(' = ');
      const node = stack[stack.length - 1] as TextNode;
      if (eq < 0) node.props.set(body, '');
      else node.props.set(body.slice(0, eq), body.slice(eq + 3));
    }
  }
  const byPhandle = new Map<number, TextNode>();
  for (const node of nodes.values()) {
    const phandle = cellsOf(node, 'phandle')[0];
    if (phandle !== undefined) byPhandle.set(phandle, node);
  }
  return { nodes, byPhandle };
}

/** The cells of a `<...>` property (empty when absent or not cells). */
export function cellsOf(node: TextNode, name: string): number[] {
  const value = node.props.get(name);
  if (value === undefined) return [];
  const match = /^<([^>]*)>$/.exec(value);
  if (match === null) return [];
  return (match[1] ?? '')
    .trim()
    .split(/\s+/)
    .filter((cell) => cell !== '')
    .map((cell) => Number(cell));
}

/** The strings of a string (list) property: dtc prints them joined with `\0`. */
export function stringsOf(node: TextNode, name: string): string[] {
  const value = node.props.get(name);
  if (value === undefined || !value.startsWith('"')) return [];
  return value.slice(1, -1).split('\\0');
}

export function statusOf(node: TextNode): string {
  return stringsOf(node, 'status')[0] ?? 'okay';
}

export function availableText(node: TextNode): boolean {
  const status = statusOf(node);
  return status === 'okay' || status === 'ok';
}

/** A phandle list read entry by entry with each target's `#cells`; stops at a bad entry. */
export function phandleList(
  tree: TextTree,
  node: TextNode,
  list: string,
  cellsName: string | null,
): { target: TextNode; args: number[] }[] {
  const cells = cellsOf(node, list);
  const out: { target: TextNode; args: number[] }[] = [];
  let at = 0;
  while (at < cells.length) {
    const phandle = cells[at++] as number;
    if (phandle === 0) continue;
    const target = tree.byPhandle.get(phandle);
    if (target === undefined) break;
    const count = cellsName === null ? 0 : cellsOf(target, cellsName)[0];
    if (count === undefined || at + count > cells.length) break;
    out.push({ target, args: cells.slice(at, at + count) });
    at += count;
  }
  return out;
}

/** The shared fixtures' blobs with their dtc text: `{ name, dtb, dts }`. */
export function sharedFixtures(): { name: string; dtb: string; dts: string }[] {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'fixtures');
    if (existsSync(join(candidate, 'dtb'))) {
      return ['dtb', 'corpus'].flatMap((sub) =>
        readdirSync(join(candidate, sub))
          .filter(
            (file) =>
              file.endsWith('.dtb') && existsSync(join(candidate, sub, file.replace(/\.dtb$/, '.dts'))),
          )
          .sort()
          .map((file) => ({
            name: `${sub}/${file}`,
            dtb: join(candidate, sub, file),
            dts: readFileSync(join(candidate, sub, file.replace(/\.dtb$/, '.dts')), 'latin1'),
          })),
      );
    }
    const up = dirname(dir);
    if (up === dir) return [];
    dir = up;
  }
}
