// A guest tree as the two things users hand on: the blob (what a VMM loads, `dtc -O dtb`)
// and its DTS text (`dtc -I dtb -O dts`, labels restored from __symbols__ on request).
import { rejectUnknownOptions } from '@vfiokit/core';
import { type DeviceTree, serializeFdt, toDts } from '@vfiokit/devicetree';

export interface RenderedTree {
  readonly dtb: Uint8Array;
  readonly dts: string;
}

export function renderTree(tree: DeviceTree, options: { readonly labels?: boolean } = {}): RenderedTree {
  rejectUnknownOptions(options, ['labels'], 'renderTree');
  const dtb = serializeFdt(tree, { padding: 'none' });
  return { dtb, dts: toDts(tree, { labels: options.labels === true }) };
}
