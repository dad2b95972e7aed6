// Model-based check of population: random trees against a small independent model of the
// rules in drivers/of/platform.c (of_platform_bus_create, of_amba_device_create).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dtTree, type LiteralNode } from './of-literal.js';
import { populate } from './populate.js';

interface ModelNode {
  readonly name: string;
  readonly compatible: readonly string[] | undefined;
  readonly status: string | undefined;
  readonly reg: boolean;
  readonly children: readonly ModelNode[];
}

const COMPATIBLES: readonly (readonly string[] | undefined)[] = [
  undefined,
  ['acme,dev'],
  ['simple-bus'],
  ['acme,mfd', 'simple-mfd'],
  ['arm,pl011', 'arm,primecell'],
  ['operating-points-v2'],
  ['ISA'],
];
const STATUSES: readonly (string | undefined)[] = [undefined, 'okay', 'ok', 'disabled', 'fail', 'reserved'];

const modelTree: fc.Arbitrary<ModelNode[]> = fc.letrec<{ node: ModelNode; nodes: ModelNode[] }>((tie) => ({
  node: fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    compatible: fc.constantFrom(...COMPATIBLES),
    status: fc.constantFrom(...STATUSES),
    reg: fc.boolean(),
    children: tie('nodes'),
  }),
  nodes: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<ModelNode[]>([]),
    fc.array(tie('node'), { maxLength: 4 }),
  ),
})).nodes;

// Unique unit addresses so names never collide; every node has an empty ranges (1:1).
function toLiteral(nodes: readonly ModelNode[], counter: { next: number }): Record<string, LiteralNode> {
  const out: Record<string, LiteralNode> = {};
  for (const node of nodes) {
    const address = 0x1000 * counter.next++;
    out[`${node.name}@${address.toString(16)}`] = {
      props: {
        '#address-cells': [1],
        '#size-cells': [1],
        ranges: true,
        ...(node.compatible === undefined ? {} : { compatible: node.compatible }),
        ...(node.status === undefined ? {} : { status: node.status }),
        ...(node.reg ? { reg: [address, 0x100] } : {}),
      },
      children: toLiteral(node.children, counter),
    };
  }
  return out;
}

// The model: what of_platform_default_populate() creates, as [path, bus, parent path].
function expected(
  nodes: readonly ModelNode[],
  literal: Record<string, LiteralNode>,
  prefix: string,
  parent: string | undefined,
): string[] {
  const out: string[] = [];
  const names = Object.keys(literal);
  nodes.forEach((node, i) => {
    const path = `${prefix}/${names[i]}`;
    const compatible = node.compatible;
    if (compatible === undefined || compatible.includes('operating-points-v2')) return;
    const available = node.status === undefined || node.status === 'okay' || node.status === 'ok';
    if (!available) return;
    if (compatible.includes('arm,primecell')) {
      if (node.reg) out.push(`${path} amba ${parent ?? '-'}`);
      return;
    }
    out.push(`${path} platform ${parent ?? '-'}`);
    // of_default_bus_match_table, matched case-insensitively ("ISA" matches "isa").
    if (
      compatible.some((c) => ['simple-bus', 'simple-mfd', 'isa', 'arm,amba-bus'].includes(c.toLowerCase()))
    ) {
      out.push(
        ...expected(node.children, literal[names[i]!]!.children as Record<string, LiteralNode>, path, path),
      );
    }
  });
  return out;
}

describe('population model (drivers/of/platform.c)', () => {
  it('random trees: exactly the modelled devices, on the right bus, under the right parent', () => {
    fc.assert(
      fc.property(modelTree, (nodes) => {
        const literal = toLiteral(nodes, { next: 1 });
        const tree = dtTree({ props: { '#address-cells': [1], '#size-cells': [1] }, children: literal });
        const result = populate(tree);
        const byName = new Map(result.devices.map((d) => [d.name, d.path]));
        const actual = result.devices.map(
          (d) => `${d.path} ${d.bus} ${d.parent === undefined ? '-' : byName.get(d.parent)}`,
        );
        expect(actual).toEqual(expected(nodes, literal, '', undefined));
        // Primecells without reg are the only failures here.
        expect(result.skipped.every((s) => s.reason === 'no-resource' && s.bus === 'amba')).toBe(true);
        for (const device of result.devices) expect(device.issues).toEqual([]);
      }),
    );
  });
});
