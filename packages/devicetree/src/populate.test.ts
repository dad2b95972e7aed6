import { describe, expect, it } from 'vitest';
import { dtTree, type LiteralNode } from './of-literal.js';
import { populate, populateDevices } from './populate.js';
import type { DtDevice } from './populate-types.js';

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

function byPath(devices: readonly DtDevice[]): Record<string, DtDevice> {
  return Object.fromEntries(devices.map((d) => [d.path, d]));
}

describe('of_platform_populate (drivers/of/platform.c: of_platform_bus_create)', () => {
  const tree = dtTree({
    props: { '#address-cells': [1], '#size-cells': [1], 'interrupt-parent': [1] },
    children: {
      'interrupt-controller@2c001000': GIC,
      'nocompat@1000': { props: { reg: [0x1000, 0x10] } },
      'uart@2000': {
        props: { compatible: 'ns16550a', reg: [0x2000, 0x100] },
        children: { 'child@0': { props: { compatible: 'acme,child' } } },
      },
      'soc@10000000': {
        props: {
          compatible: 'simple-bus',
          '#address-cells': [1],
          '#size-cells': [1],
          ranges: [0, 0x10000000, 0x100000],
        },
        children: {
          'i2c@1000': { props: { compatible: 'acme,i2c', reg: [0x1000, 0x100], interrupts: [0, 7, 4] } },
          'off@2000': {
            props: { compatible: 'simple-bus', status: 'disabled', ranges: true },
            children: { 'hidden@0': { props: { compatible: 'acme,x' } } },
          },
          'mfd@3000': {
            props: {
              compatible: ['acme,pmic', 'simple-mfd'],
              reg: [0x3000, 0x100],
              '#address-cells': [1],
              '#size-cells': [0],
            },
            children: { regulator: { props: { compatible: 'acme,regulator' } } },
          },
          opp: {
            props: { compatible: 'operating-points-v2' },
            children: { 'opp-1': { props: { compatible: 'x' } } },
          },
          'ok@4000': { props: { compatible: 'acme,ok', reg: [0x4000, 4], status: 'ok' } },
        },
      },
    },
  });
  const result = populate(tree);
  const devices = byPath(result.devices);

  it('creates root children with compatible, in tree order, recursing only into bus nodes', () => {
    expect(result.devices.map((d) => d.name)).toEqual([
      '2000.uart',
      // no reg: the full name
      'soc@10000000',
      '10001000.i2c',
      '10003000.mfd',
      // no reg: prefixed by the nearest ancestor that translates
      '10003000.mfd:regulator',
      '10004000.ok',
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('skips nodes without compatible (strict), unavailable nodes with their subtree, and operating-points-v2', () => {
    expect(devices['/nocompat@1000']).toBeUndefined();
    expect(devices['/soc@10000000/off@2000']).toBeUndefined();
    expect(devices['/soc@10000000/off@2000/hidden@0']).toBeUndefined();
    expect(devices['/soc@10000000/opp']).toBeUndefined();
    expect(devices['/uart@2000/child@0']).toBeUndefined();
  });

  it('leaves the GIC to of_irq_init(): it is OF_POPULATED, no platform device', () => {
    expect(devices['/interrupt-controller@2c001000']).toBeUndefined();
    const withGic = populateDevices(tree, { earlyInit: { irqchips: [] } });
    expect(withGic[0]?.name).toBe('2c001000.interrupt-controller');
  });

  it('records parent devices, compatible, regions and GIC interrupts', () => {
    const i2c = devices['/soc@10000000/i2c@1000']!;
    expect(i2c).toMatchObject({
      bus: 'platform',
      parent: 'soc@10000000',
      compatible: ['acme,i2c'],
      regions: [{ index: 0, address: 0x10001000n, size: 0x100n, name: undefined }],
      irqs: [
        {
          index: 0,
          controller: '/interrupt-controller@2c001000',
          args: [0, 7, 4],
          gicType: 'SPI',
          intid: 39,
          trigger: 'level-high',
        },
      ],
      issues: [],
    });
    expect(devices['/uart@2000']!.parent).toBeUndefined();
  });

  it('a custom bus match table changes what is recursed into', () => {
    const names = populateDevices(tree, { busCompatibles: [] }).map((d) => d.name);
    expect(names).toEqual(['2000.uart', 'soc@10000000']);
  });
});

describe('AMBA devices (drivers/of/platform.c: of_amba_device_create, drivers/amba/bus.c)', () => {
  const tree = dtTree({
    props: { '#address-cells': [1], '#size-cells': [1], 'interrupt-parent': [1] },
    children: {
      gic: GIC,
      'amba@0': {
        props: { compatible: 'arm,amba-bus', '#address-cells': [1], '#size-cells': [1], ranges: true },
        children: {
          'serial@9000000': {
            props: {
              compatible: ['arm,pl011', 'arm,primecell'],
              reg: [0x9000000, 0x1000],
              interrupts: [0, 1, 4],
              'arm,primecell-periphid': [0x00241011],
            },
            children: { 'inner@0': { props: { compatible: 'simple-bus' } } },
          },
          'dma@9100000': {
            props: {
              compatible: ['arm,pl330', 'arm,primecell'],
              reg: [0x9100000, 0x1000],
              // index 1 is an empty entry: AMBA still tries index 2, platform would stop.
              'interrupts-extended': [1, 0, 10, 4, 0, 1, 0, 12, 4],
            },
          },
          'noreg@0': { props: { compatible: ['arm,sp804', 'arm,primecell'] } },
          'clash@9000800': {
            props: { compatible: ['arm,pl031', 'arm,primecell'], reg: [0x9000800, 0x1000] },
          },
          'twin@9100000': { props: { compatible: ['acme,twin'], reg: [0x9100000, 0x10] } },
          'dup@9200000': { props: { compatible: ['acme,a'], reg: [0x9200000, 0x10] } },
          'dup@9200000,1': { props: { compatible: ['acme,b'], reg: [0x9200000, 0x10] } },
        },
      },
    },
  });
  const result = populate(tree);
  const devices = byPath(result.devices);

  it('arm,primecell nodes become AMBA devices with the DT periphid; their children are not populated', () => {
    expect(devices['/amba@0/serial@9000000']).toMatchObject({
      name: '9000000.serial',
      bus: 'amba',
      periphid: 0x00241011,
      regions: [{ address: 0x9000000n, size: 0x1000n }],
    });
    expect(devices['/amba@0/serial@9000000/inner@0']).toBeUndefined();
    expect(devices['/amba@0']).toMatchObject({ bus: 'platform', name: 'amba@0' });
  });

  it('AMBA irq[0..8] keep resolvable indexes past a failing one', () => {
    expect(devices['/amba@0/dma@9100000']!.irqs.map((i) => [i.index, i.intid])).toEqual([
      [0, 42],
      [2, 44],
    ]);
    expect(devices['/amba@0/dma@9100000']!.periphid).toBeUndefined();
  });

  it('records AMBA nodes it could not add: no reg, or a region taken by an earlier AMBA device', () => {
    expect(result.skipped).toEqual([
      { path: '/amba@0/noreg@0', bus: 'amba', name: 'amba@0:noreg@0', reason: 'no-resource' },
      { path: '/amba@0/clash@9000800', bus: 'amba', name: '9000800.clash', reason: 'resource-conflict' },
      { path: '/amba@0/dup@9200000,1', bus: 'platform', name: '9200000.dup', reason: 'duplicate-name' },
    ]);
  });

  it('platform devices may overlap AMBA regions (of_device_add() claims nothing)', () => {
    expect(devices['/amba@0/twin@9100000']?.name).toBe('9100000.twin');
  });

  it('without CONFIG_ARM_AMBA, primecells are platform devices and arm,amba-bus is not a bus', () => {
    const names = populateDevices(tree, { amba: false }).map((d) => d.name);
    expect(names).toEqual(['amba@0']);
  });
});

describe('boot-time extras (drivers/of/platform.c: of_platform_default_populate_init)', () => {
  const tree = dtTree({
    props: { '#address-cells': [1], '#size-cells': [1] },
    children: {
      firmware: {
        props: { compatible: 'simple-bus' },
        children: {
          scm: { props: { compatible: 'qcom,scm' }, children: { sub: { props: { compatible: 'x' } } } },
          optee: { props: { compatible: 'linaro,optee-tz' } },
        },
      },
      'reserved-memory': {
        props: { '#address-cells': [1], '#size-cells': [1], ranges: true },
        children: {
          'ramoops@8f000000': { props: { compatible: 'ramoops', reg: [0x8f000000, 0x100000] } },
          'other@90000000': { props: { compatible: 'acme,carveout', reg: [0x90000000, 0x1000] } },
          'smem@91000000': { props: { compatible: 'qcom,smem', reg: [0x91000000, 0x1000] } },
        },
      },
      chosen: {
        props: { '#address-cells': [1], '#size-cells': [1], ranges: true },
        children: {
          'framebuffer@a0000000': {
            props: { compatible: 'simple-framebuffer', reg: [0xa0000000, 0x100000] },
          },
          'framebuffer@a1000000': {
            props: { compatible: 'simple-framebuffer', reg: [0xa1000000, 0x100000] },
          },
        },
      },
      clk24m: { props: { compatible: 'fixed-clock', '#clock-cells': [0] } },
      'dev@1000': { props: { compatible: 'acme,dev', reg: [0x1000, 4] } },
    },
  });

  it('creates reserved_mem_matches nodes first, then /firmware children (not theirs), then the first /chosen framebuffer', () => {
    expect(populateDevices(tree).map((d) => d.name)).toEqual([
      '8f000000.ramoops',
      '91000000.smem',
      'firmware:scm',
      'firmware:optee',
      'a0000000.framebuffer',
      '1000.dev',
    ]);
  });

  it('fixed clocks are set up by of_clk_init() and get no device unless told otherwise', () => {
    expect(populateDevices(tree, { earlyInit: { clocks: [] } }).map((d) => d.name)).toContain('clk24m');
  });
});

describe('DMA, IOMMU, MSI and provider links', () => {
  const tree = dtTree({
    props: { '#address-cells': [1], '#size-cells': [1], 'interrupt-parent': [1] },
    children: {
      gic: {
        props: { ...GIC.props, '#address-cells': [1], '#size-cells': [1], ranges: true },
        children: {
          'v2m@2c020000': {
            props: {
              phandle: [2],
              compatible: 'arm,gic-v2m-frame',
              'msi-controller': true,
              reg: [0x2c020000, 0x1000],
            },
          },
        },
      },
      'smmu@2b000000': {
        props: { phandle: [3], compatible: 'arm,mmu-500', '#iommu-cells': [1], reg: [0x2b000000, 0x10000] },
      },
      'smmu-off@2b100000': {
        props: { phandle: [4], compatible: 'arm,mmu-500', '#iommu-cells': [1], status: 'disabled' },
      },
      'clk@1000': {
        props: {
          phandle: [5],
          compatible: 'acme,clk',
          reg: [0x1000, 4],
          '#clock-cells': [1],
          '#reset-cells': [1],
        },
      },
      'pd@2000': {
        props: { phandle: [6], compatible: 'acme,pd', reg: [0x2000, 4], '#power-domain-cells': [0] },
      },
      'dmac@3000': { props: { phandle: [7], compatible: 'acme,dmac', reg: [0x3000, 4], '#dma-cells': [1] } },
      'bus@40000000': {
        props: {
          compatible: 'simple-bus',
          '#address-cells': [1],
          '#size-cells': [1],
          ranges: true,
          'dma-coherent': true,
        },
        children: {
          'eth@40000000': {
            props: {
              compatible: 'acme,eth',
              reg: [0x40000000, 0x1000],
              iommus: [3, 0x10, 3, 0x11, 0, 3, 0x12],
              'msi-parent': [2],
              dmas: [7, 1, 7, 2],
              'dma-names': ['tx', 'rx'],
              clocks: [5, 0, 5, 1],
              'clock-names': ['apb_pclk', 'core'],
              resets: [5, 3],
              'reset-names': ['main'],
              'power-domains': [6],
            },
          },
          'nc@40001000': {
            props: { compatible: 'acme,nc', reg: [0x40001000, 4], 'dma-noncoherent': true, iommus: [4, 1] },
          },
          'broken@40002000': {
            props: {
              compatible: 'acme,broken',
              reg: [0x40002000, 4],
              clocks: [5, 0, 99, 1],
              interrupts: [4, 1, 4, 0, 2, 4],
            },
          },
        },
      },
    },
  });
  const devices = byPath(populateDevices(tree));

  it('resolves iommus (up to an empty entry), msi-parent with 0 #msi-cells, dmas/clocks/resets/power-domains with names', () => {
    const eth = devices['/bus@40000000/eth@40000000']!;
    expect(eth.iommus.map((l) => [l.target, l.args])).toEqual([
      ['/smmu@2b000000', [0x10]],
      ['/smmu@2b000000', [0x11]],
    ]);
    expect(eth.msiParent).toEqual({
      index: 0,
      name: undefined,
      target: '/gic/v2m@2c020000',
      args: [],
      targetAvailable: true,
    });
    expect(eth.dmas.map((l) => [l.name, l.target, l.args])).toEqual([
      ['tx', '/dmac@3000', [1]],
      ['rx', '/dmac@3000', [2]],
    ]);
    expect(eth.clocks.map((l) => [l.name, l.args])).toEqual([
      ['apb_pclk', [0]],
      ['core', [1]],
    ]);
    expect(eth.resets.map((l) => [l.name, l.target, l.args])).toEqual([['main', '/clk@1000', [3]]]);
    expect(eth.powerDomains.map((l) => [l.target, l.args])).toEqual([['/pd@2000', []]]);
  });

  it('dma-coherent is inherited from the bus (of_dma_is_coherent); dma-noncoherent stops it', () => {
    expect(devices['/bus@40000000/eth@40000000']!.dmaCoherent).toBe(true);
    expect(devices['/bus@40000000/nc@40001000']!.dmaCoherent).toBe(false);
    expect(devices['/clk@1000']!.dmaCoherent).toBe(false);
  });

  it('flags links to disabled providers', () => {
    expect(devices['/bus@40000000/nc@40001000']!.iommus).toEqual([
      { index: 0, name: undefined, target: '/smmu-off@2b100000', args: [1], targetAvailable: false },
    ]);
  });

  it('keeps the device and the good part of a broken list, reporting the bad reference as an issue', () => {
    const broken = devices['/bus@40000000/broken@40002000']!;
    expect(broken.clocks.map((l) => l.args)).toEqual([[0]]);
    // GICv2 has no type 4: gic_irq_domain_translate() fails and platform_irq_count() stops.
    expect(broken.irqs).toEqual([]);
    expect(broken.issues.map((e) => e.code)).toEqual(['BADVALUE', 'BADPHANDLE']);
  });
});
