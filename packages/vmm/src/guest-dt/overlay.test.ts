import { parseFdt, serializeFdt, toDts } from '@vfiokit/devicetree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDts, fdtoverlay, hasDtcTools } from '../test-support/tools.js';
import { applyOverlay } from './overlay.js';

const BASE = `/dts-v1/;
/ {
  #address-cells = <2>; #size-cells = <2>;
  interrupt-parent = <&gic>;
  gic: interrupt-controller@8000000 { compatible = "arm,gic-v3"; #interrupt-cells = <3>; interrupt-controller; reg = <0 0x8000000 0 0x10000>; };
  soc: soc { #address-cells = <2>; #size-cells = <2>; ranges; uart@9000000 { compatible = "arm,pl011"; reg = <0 0x9000000 0 0x1000>; }; };
};`;

const OVERLAY = `/dts-v1/;
/plugin/;
&{/} {
  clk: clk { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; };
  dev: dev@10000000 { compatible = "vendor,dev"; reg = <0 0x10000000 0 0x1000>; clocks = <&clk>; interrupt-parent = <&gic>; interrupts = <0 5 4>; };
};
&soc { added = <1>; uart@9000000 { status = "disabled"; }; sub { x = <&clk &dev>; }; };
`;

const dts = (b: Uint8Array) => toDts(parseFdt(b));

describe('applyOverlay (libfdt fdt_overlay_apply)', { timeout: 60_000 }, () => {
  it.skipIf(!hasDtcTools())(
    'gives what fdtoverlay gives: phandle delta, local fixups, __fixups__, merge order, __symbols__',
    () => {
      const base = compileDts(BASE);
      const ovl = compileDts(OVERLAY);
      const expected = fdtoverlay(base, ovl);
      if (!(expected instanceof Uint8Array)) throw new TypeError(expected.error);
      const ours = serializeFdt(applyOverlay(parseFdt(base), parseFdt(ovl)), { padding: 'none' });
      expect(dts(ours)).toBe(dts(expected));
    },
  );

  it('a __fixups__ label the base does not have is FDT_ERR_NOTFOUND', () => {
    const base = parseFdt(compileDts('/dts-v1/; / { x { }; };'));
    const ovl = parseFdt(compileDts(OVERLAY));
    expect(() => applyOverlay(base, ovl)).toThrow(/NOTFOUND/);
  });

  it('crosvm filter: only the chosen label and what it references are applied', () => {
    const base = parseFdt(compileDts(BASE));
    const ovl = parseFdt(compileDts(OVERLAY));
    const out = toDts(applyOverlay(base, ovl, { symbols: ['dev'] }));
    expect(out).toContain('dev@10000000 {');
    expect(out).toContain('clk {');
    expect(out).not.toContain('added');
    expect(out).not.toContain('sub {');
    expect(() => applyOverlay(base, ovl, { symbols: ['nope'] })).toThrow(
      /ENOENT: labels nope not found in overlay files/,
    );
  });

  it.skipIf(!hasDtcTools())(
    'property: random overlays of new nodes and properties agree with fdtoverlay',
    () => {
      const name = fc.constantFrom('a', 'b', 'c', 'node@1', 'node@2');
      const value = fc.oneof(
        fc.nat(1000).map((n) => `<${n}>`),
        fc.constantFrom('"s"', '<&gic>', '<&l0>', '<&l1>'),
      );
      const node: fc.Arbitrary<string> = fc.letrec<{ n: string }>((tie) => ({
        n: fc
          .tuple(
            fc.uniqueArray(fc.tuple(fc.constantFrom('p', 'q', 'r', 'added'), value), {
              selector: (x) => x[0],
              maxLength: 3,
            }),
            fc.uniqueArray(fc.tuple(name, fc.oneof({ depthSize: 'small' }, fc.constant(''), tie('n'))), {
              selector: (x) => x[0],
              maxLength: 2,
            }),
          )
          .map(
            ([props, kids]) =>
              `${props.map(([k, v]) => `${k} = ${v};`).join(' ')} ${kids.map(([k, body]) => `${k} { ${body} };`).join(' ')}`,
          ),
      })).n;
      fc.assert(
        fc.property(node, node, fc.constantFrom('&{/}', '&soc', '&gic'), (a, b, target) => {
          const src = `/dts-v1/;\n/plugin/;\n${target} { l0: n0 { ${a} }; l1: n1 { ${b} }; };\n`;
          const base = compileDts(BASE);
          const ovl = compileDts(src);
          const expected = fdtoverlay(base, ovl);
          if (!(expected instanceof Uint8Array)) return;
          const ours = serializeFdt(applyOverlay(parseFdt(base), parseFdt(ovl)), { padding: 'none' });
          expect(dts(ours)).toBe(dts(expected));
        }),
        { numRuns: 25 },
      );
    },
  );
});
