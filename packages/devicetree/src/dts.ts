// DTS text as `dtc -I dtb -O dts` (DTC 1.6.1) prints it: treesource.c dt_to_source(),
// write_tree_source_node(), write_propval().

import { rejectUnknownOptions } from '@vfiokit/core';
import { type LabelIndex, labelIndex } from './dts-labels.js';
import { writeValue, writeValueReversible } from './dts-value.js';
import { TextWriter } from './text-writer.js';
import type { DeviceTree, DtNode, DtProperty } from './tree.js';

/** Options of {@link toDts}. */
export interface ToDtsOptions {
  /**
   * Restore labels from `/__symbols__` (`label: node {`) and print phandle cells of the
   * common phandle-list properties (`interrupt-parent`, `clocks`, `iommus`, `dmas`, …) as
   * `&label` (or `&{/path}` for unlabelled targets). dtc cannot do this from a blob. The
   * text compiles back (`dtc -I dts`) to the same tree: a string dtc would print with an
   * ambiguous `\0` escape (`"\02K"`, read back as octal) prints as cells or bytes instead.
   */
  readonly labels?: boolean;
}

/**
 * The DTS text of `tree`. Without options it is byte-identical to what
 * `dtc -I dtb -O dts` of DTC 1.6.1 prints for the blob of the same tree.
 */
export function toDts(tree: DeviceTree, options: ToDtsOptions = {}): string {
  rejectUnknownOptions(options, ['labels'], 'toDts');
  const out = new TextWriter(textSizeHint(tree.root));
  out.text('/dts-v1/;\n\n');
  for (const entry of tree.reserveMap) {
    out.text(
      `/memreserve/\t0x${entry.address.toString(16).padStart(16, '0')} 0x${entry.size.toString(16).padStart(16, '0')};\n`,
    );
  }
  const labels = options.labels === true ? labelIndex(tree) : undefined;
  writeNode(out, tree.root, '/', 0, labels);
  return out.toString();
}

/** About the length of the text: a 4-byte cell prints in up to 11 characters. */
function textSizeHint(root: DtNode): number {
  let size = 64;
  const stack: DtNode[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    size += 16 + 2 * node.name.length;
    for (const prop of node.properties) size += 16 + prop.name.length + 3 * prop.value.length;
    for (const child of node.children) stack.push(child);
  }
  return size;
}

/**
 * checks.c check_name_properties(): dtc deletes a node's first `name` property when it holds
 * the node's base name (the part before '@'; the length must be that plus one, and only the
 * base-name bytes are compared), so pre-v16 blobs print without their generated names.
 */
function redundantNameProperty(node: DtNode): DtProperty | undefined {
  const prop = node.properties.find((p) => p.name === 'name');
  if (prop === undefined) return undefined;
  const at = node.name.indexOf('@');
  const base = at < 0 ? node.name : node.name.slice(0, at);
  if (prop.value.length !== base.length + 1) return undefined;
  for (let i = 0; i < base.length; i++) if (prop.value[i] !== base.charCodeAt(i)) return undefined;
  return prop;
}

function writeIndent(out: TextWriter, level: number): void {
  for (let i = 0; i < level; i++) out.char(0x09);
}

function writeNode(
  out: TextWriter,
  node: DtNode,
  path: string,
  level: number,
  labels: LabelIndex | undefined,
): void {
  writeIndent(out, level);
  for (const label of labels?.labelsOf(path) ?? []) out.text(`${label}: `);
  out.text(node.name === '' ? '/' : node.name);
  out.text(' {\n');
  const redundant = redundantNameProperty(node);
  for (const prop of node.properties) {
    if (prop === redundant) continue;
    writeIndent(out, level + 1);
    out.text(prop.name);
    if (prop.value.length === 0) {
      out.text(';\n');
      continue;
    }
    out.text(' = ');
    // With labels the text is meant to be compiled again, so values print reversibly.
    const refs = labels?.formatReferences(node, prop);
    if (refs !== undefined) out.text(refs);
    else if (labels !== undefined) writeValueReversible(out, prop.value);
    else writeValue(out, prop.value);
    out.text(';\n');
  }
  for (const child of node.children) {
    out.char(0x0a);
    const childPath = labels === undefined ? path : path === '/' ? `/${child.name}` : `${path}/${child.name}`;
    writeNode(out, child, childPath, level + 1, labels);
  }
  writeIndent(out, level);
  out.text('};\n');
}
