// Population facts that depend on what the kernel set up before of_platform_populate() and on
// the kernel release: drivers/of/irq.c of_irq_init() (OF_POPULATED on early irqchips) and
// drivers/of/address.c of_match_bus() (v6.13's #address-cells rule).
import { readFileSync } from 'node:fs';
import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { parseFdt } from './fdt-parse.js';
import { dtTree, type LiteralNode, type LiteralValue } from './of-literal.js';
import { populate, populateDevices } from './populate.js';
import { DEFAULT_EARLY_IRQCHIPS } from './populate-tables.js';
import { FIXTURES_DIR } from './test-support/fixtures.js';

const GIC: LiteralNode = {
  props: {
    phandle: [1],
    compatible: 'arm,gic-400',
    'interrupt-controller': true,
    '#interrupt-cells': [3],
    '#address-cells': [0],
    reg: [0x2c001000, 0x1000],
  },
};

const intc = (
  compatible: string,
  phandle: number,
  extra: Record<string, LiteralValue> = {},
): LiteralNode => ({
  props: {
    compatible,
    phandle: [phandle],
    'interrupt-controller': true,
    '#interrupt-cells': [2],
    reg: [0x1000 * phandle, 0x100],
    ...extra,
  },
});

describe('early irqchips (drivers/of/irq.c: of_irq_init sets OF_POPULATED)', () => {
  const tree = dtTree({
    props: { '#address-cells': [1], '#size-cells': [1], 'interrupt-parent': [1] },
    children: {
      'interrupt-controller@2c001000': GIC,
      // irq-sun6i-r.c IRQCHIP_DECLARE, child of the GIC: initialised after it.
      'interrupt-controller@2000': intc('allwinner,sun6i-a31-r-intc', 2, { interrupts: [0, 32, 4] }),
      // irq-apple-aic.c: a second root controller (its own interrupt parent).
      'interrupt-controller@3000': intc('apple,aic2', 3, { 'interrupt-parent': [3] }),
      // An IRQCHIP_PLATFORM_DRIVER irqchip: a platform device, and children declared early
      // below it are stranded ("children remain, but no parents").
      'interrupt-controller@4000': intc('vendor,platform-intc', 4),
      'interrupt-controller@5000': intc('apple,aic', 5, { 'interrupt-parent': [4] }),
      // irq-imx-gpcv2.c clears OF_POPULATED again so the GPC power-domain driver probes.
      'gpc@6000': intc('fsl,imx8mq-gpc', 6),
      // Declared compatible but no interrupt-controller property: of_irq_init() skips it.
      'plain@7000': { props: { compatible: 'apple,aic2', reg: [0x7000, 0x100] } },
      // Disabled: neither initialised nor populated.
      'interrupt-controller@8000': intc('apple,aic2', 8, { status: 'disabled' }),
      // interrupt-parent names no node: of_irq_find_parent() gives NULL, a root controller.
      'interrupt-controller@9000': intc('allwinner,sun6i-a31-r-intc', 9, { 'interrupt-parent': [0x99] }),
    },
  });
  const names = populateDevices(tree).map((d) => d.path);

  it('creates no device for IRQCHIP_DECLARE controllers reached from a root (GIC, AIC2, R_INTC)', () => {
    expect(names).not.toContain('/interrupt-controller@2c001000');
    expect(names).not.toContain('/interrupt-controller@2000');
    expect(names).not.toContain('/interrupt-controller@3000');
    expect(names).not.toContain('/interrupt-controller@9000');
  });

  it('creates devices for platform-driver irqchips, controllers stranded below them, and the GPC', () => {
    expect(names).toContain('/interrupt-controller@4000');
    expect(names).toContain('/interrupt-controller@5000');
    expect(names).toContain('/gpc@6000');
    expect(names).toContain('/plain@7000');
    expect(names).not.toContain('/interrupt-controller@8000');
  });

  it('earlyInit.irqchips replaces the table (a kernel built without those drivers)', () => {
    const only = populateDevices(tree, { earlyInit: { irqchips: ['arm,gic-400'] } }).map((d) => d.path);
    expect(only).not.toContain('/interrupt-controller@2c001000');
    expect(only).toContain('/interrupt-controller@2000');
    expect(only).toContain('/interrupt-controller@3000');
  });

  it('the default table holds the corpus root controllers and leaves out the ones that clear the flag', () => {
    for (const c of [
      'arm,gic-400',
      'arm,gic-v3',
      'apple,aic2',
      'allwinner,sun6i-a31-r-intc',
      'fsl,ls1088a-extirq',
    ]) {
      expect(DEFAULT_EARLY_IRQCHIPS).toContain(c);
    }
    for (const c of ['fsl,imx7d-gpc', 'fsl,imx8mq-gpc', 'riscv,imsics'])
      expect(DEFAULT_EARLY_IRQCHIPS).not.toContain(c);
  });

  it('on real trees: no device for the Apple t6021 AIC2 nor the H5 R_INTC', () => {
    const apple = populateDevices(
      parseFdt(readFileSync(`${FIXTURES_DIR}corpus/arm64_apple_t6021-j414c.dtb`)),
    );
    expect(apple.some((d) => d.compatible.includes('apple,aic2'))).toBe(false);
    expect(apple.length).toBeGreaterThan(50);
    const h5 = populateDevices(
      parseFdt(readFileSync(`${FIXTURES_DIR}corpus/arm64_allwinner_sun50i-h5-orangepi-prime.dtb`)),
    );
    expect(h5.some((d) => d.compatible.includes('allwinner,sun6i-a31-r-intc'))).toBe(false);
    expect(h5.some((d) => d.name === '1f00c00.interrupt-controller')).toBe(false);
  });
});

describe('populate({ kernel }) (drivers/of/address.c: of_match_bus, v6.13)', () => {
  // coreboot's /firmware as Chromebook bootloaders write it: an empty ranges and no
  // #address-cells / #size-cells. From v6.13 Linux logs "coreboot_table firmware:coreboot:
  // probe with driver coreboot_table failed with error -22": the device has no reg resource.
  const tree = dtTree({
    props: { '#address-cells': [2], '#size-cells': [2] },
    children: {
      firmware: {
        props: { ranges: true },
        children: { coreboot: { props: { compatible: 'coreboot', reg: [0, 0x7ff00000, 0, 0x1000] } } },
      },
    },
  });

  it('v6.12: firmware children inherit the root cells, get their region and an address name', () => {
    const [coreboot] = populateDevices(tree, { kernel: [6, 12] });
    expect(coreboot?.name).toBe('7ff00000.coreboot');
    expect(coreboot?.regions.map((r) => r.address)).toEqual([0x7ff00000n]);
  });

  it('v6.13 and later (default v6.18): no region, named firmware:coreboot', () => {
    for (const kernel of [[6, 13], [6, 18], undefined] as const) {
      const [coreboot] = populateDevices(tree, kernel === undefined ? {} : { kernel });
      expect(coreboot?.name).toBe('firmware:coreboot');
      expect(coreboot?.regions).toEqual([]);
    }
  });
});

describe('populate options are checked (issue #9 item 27)', () => {
  const tree = dtTree({ children: { 'interrupt-controller@2c001000': GIC } });
  const errorOf = (run: () => unknown): unknown => {
    try {
      run();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('refuses unknown keys, also inside earlyInit, with EINVAL naming the key', () => {
    const typo = errorOf(() => populate(tree, { kernal: [6, 12] } as never));
    expect(isKernelError(typo, 'EINVAL')).toBe(true);
    expect((typo as Error).message).toContain("unknown option 'kernal'");
    const inner = errorOf(() => populate(tree, { earlyInit: { irqchip: [] } } as never));
    expect(isKernelError(inner, 'EINVAL')).toBe(true);
    expect((inner as Error).message).toContain("populate: earlyInit: unknown option 'irqchip'");
  });

  it('refuses a kernel outside v6.12–v6.18', () => {
    expect(
      isKernelError(
        errorOf(() => populate(tree, { kernel: [6, 11] })),
        'EINVAL',
      ),
    ).toBe(true);
    expect(
      isKernelError(
        errorOf(() => populate(tree, { kernel: [7, 0] })),
        'EINVAL',
      ),
    ).toBe(true);
  });
});
