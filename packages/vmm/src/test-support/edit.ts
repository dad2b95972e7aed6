// Editing a parsed tree in tests: a deep copy with one node changed.
import type { DeviceTree } from '@vfiokit/devicetree';
import { deepCopy, findNode, type MutableNode, withRoot } from '../guest-dt/dt-edit.js';

export function editTree(
  tree: DeviceTree,
  path: string,
  edit: (node: MutableNode, root: MutableNode) => void,
): DeviceTree {
  const root = deepCopy(tree.root);
  const node = findNode(root, path);
  if (node === undefined) throw new TypeError(`no node ${path}`);
  edit(node, root);
  return withRoot(tree, root);
}
