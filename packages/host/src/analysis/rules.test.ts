import { DeviceTreeBuilder, type DtNodeBuilder, ref } from '@vfiokit/devicetree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../host.js';
import type { HostOptions } from '../options.js';
import { virtDtb } from '../test-support.js';
import { analyzeHost } from './analyze.js';
import { buildDemoSoc } from './demo-soc.js';
import type { DeviceAnalysis, HostAnalysis } from './types.js';

// Small trees made with DeviceTreeBuilder, one rule each.
function board(build: (soc: DtNodeBuilder) => void): Host {
  const tree = new DeviceTreeBuilder()
    .root((root) => {
      root
        .string('compatible', 'test,board')
        .cells('#address-cells', 1)
        .cells('#size-cells', 1)
        .cells('interrupt-parent', ref('gic'));
      root.node('interrupt-controller@2f000000', (gic) => {
        gic
          .label('gic')
          .string('compatible', 'arm,gic-v3')
          .cells('#interrupt-cells', 3)
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges')
          .flag('interrupt-controller')
          .cells('reg', 0x2f000000, 0x10000, 0x2f100000, 0x200000);
        gic.node('msi-controller@2f020000', (its) => {
          its
            .label('preits')
            .string('compatible', 'socionext,synquacer-pre-its', 'arm,gic-v3-its')
            .flag('msi-controller')
            .cells('#msi-cells', 1)
            .cells('reg', 0x2f020000, 0x20000);
        });
      });
      root.node('soc', (soc) => {
        soc
          .string('compatible', 'simple-bus')
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges');
        build(soc);
      });
    })
    .build();
  return createHost(tree);
}

const device = (analysis: HostAnalysis, name: string): DeviceAnalysis => {
  const found = analysis.devices.find((d) => d.name === name);
  if (found === undefined) throw new RangeError(`no ${name}`);
  return found;
};

describe('analysis rules on built trees', () => {
  it('an IOMMU whose node is disabled gives no IOMMU (of_iommu_xlate -ENODEV): the no-IOMMU route', () => {
    const host = board((soc) => {
      soc.node('iommu@1000', (smmu) => {
        smmu
          .label('smmu')
          .string('compatible', 'arm,smmu-v2')
          .cells('reg', 0x1000, 0x1000)
          .cells('#iommu-cells', 1);
        smmu.string('status', 'disabled');
      });
      soc.node('dma@2000', (dma) => {
        dma.string('compatible', 'test,dma').cells('reg', 0x2000, 0x100).cells('iommus', ref('smmu'), 5);
      });
    });
    const dma = device(analyzeHost(host), '2000.dma');
    expect(dma.iommu).toBeNull();
    expect(dma.dma.verdict).toBe('master');
    expect(dma.path).toBe('noiommu');
    expect(dma.reasons[0]).toBe(
      'iommus names /soc/iommu@1000, which is disabled: of_iommu_xlate() -ENODEV, no IOMMU',
    );
    expect(dma.requires).toContain('enable_unsafe_noiommu_mode=1');
  });

  it('a group holding a device the host needs is not viable, and its members are not assignable', () => {
    const host = board((soc) => {
      soc.node('iommu@1000', (smmu) => {
        smmu
          .label('smmu')
          .string('compatible', 'arm,smmu-v2')
          .cells('reg', 0x1000, 0x1000)
          .cells('#iommu-cells', 1);
      });
      soc.node('dma@2000', (dma) => {
        dma
          .label('dma')
          .string('compatible', 'test,dma')
          .cells('reg', 0x2000, 0x100)
          .cells('#dma-cells', 1)
          .cells('iommus', ref('smmu'), 7);
      });
      soc.node('spi@3000', (spi) => {
        spi
          .string('compatible', 'test,spi')
          .cells('reg', 0x3000, 0x100)
          .cells('iommus', ref('smmu'), 7)
          .cells('dmas', ref('dma'), 1)
          .string('dma-names', 'tx');
      });
    });
    const analysis = analyzeHost(host, { source: 'x' });
    expect(analysis.groups).toEqual([
      { id: 0, iommu: '/soc/iommu@1000', devices: ['2000.dma', '3000.spi'], viable: false },
    ]);
    const spi = device(analysis, '3000.spi');
    expect(spi.assignable).toBe(false);
    expect(spi.reasons).toContain('group 0 also holds 2000.dma, which the host needs: not viable');
    expect(spi.dependencies).toContainEqual({ kind: 'dma', node: '/soc/dma@2000', owner: 'host' });
    expect(device(analysis, '2000.dma').reasons[0]).toBe('the host needs it: DMA engine of 1 device');
  });

  it('an IOMMU the host has no driver for: its masters grouped from the tree, said so', () => {
    const host = board((soc) => {
      soc.node('iommu@1000', (mmu) => {
        mmu
          .label('mmu')
          .string('compatible', 'rockchip,iommu')
          .cells('reg', 0x1000, 0x100)
          .cells('#iommu-cells', 0);
      });
      soc.node('vpu@2000', (vpu) =>
        vpu.string('compatible', 'test,vpu').cells('reg', 0x2000, 0x100).cells('iommus', ref('mmu')),
      );
      soc.node('vpu@3000', (vpu) =>
        vpu.string('compatible', 'test,vpu').cells('reg', 0x3000, 0x100).cells('iommus', ref('mmu')),
      );
    });
    expect(host.iommuGroups).toEqual([]);
    const analysis = analyzeHost(host);
    // No #iommu-cells: the IOMMU cannot tell its masters apart, so they share one group.
    expect(analysis.groups).toEqual([
      { id: 0, iommu: '/soc/iommu@1000', devices: ['2000.vpu', '3000.vpu'], viable: true },
    ]);
    const vpu = device(analysis, '3000.vpu');
    expect(vpu.iommu).toEqual({ node: '/soc/iommu@1000', streamIds: [], group: 0 });
    expect(vpu.reasons[0]).toBe(
      'behind /soc/iommu@1000, IOMMU group 0 (formed from the tree: no modelled driver for this IOMMU)',
    );
    expect(vpu.requires).toContain('unbind 2000.vpu');
  });

  it('the SynQuacer pre-ITS does not isolate (its_enable_quirk_socionext_synquacer)', () => {
    const host = board((soc) => {
      soc.node('iommu@1000', (smmu) => {
        smmu
          .label('smmu')
          .string('compatible', 'arm,smmu-v2')
          .cells('reg', 0x1000, 0x1000)
          .cells('#iommu-cells', 1);
      });
      soc.node('nic@2000', (nic) => {
        nic
          .string('compatible', 'calxeda,hb-xgmac')
          .cells('reg', 0x2000, 0x100)
          .cells('iommus', ref('smmu'), 1)
          .cells('msi-parent', ref('preits'), 4);
      });
    });
    const nic = device(analyzeHost(host), '2000.nic');
    expect(nic.msi).toEqual({
      parent: '/interrupt-controller@2f000000/msi-controller@2f020000',
      isolated: false,
    });
    expect(nic.requires).toEqual(['allow_unsafe_interrupts=1']);
  });

  it('an empty compatible: vfio-platform cannot read one; no MMIO: nothing to drive', () => {
    const host = board((soc) => {
      // of_platform_populate is strict (a node needs the property) but an empty one passes.
      soc.node('thing@2000', (thing) => thing.flag('compatible').cells('reg', 0x2000, 0x100));
      soc.node('regulator', (reg) => reg.string('compatible', 'regulator-fixed'));
    });
    const analysis = analyzeHost(host);
    expect(device(analysis, '2000.thing')).toMatchObject({ path: null, assignable: false });
    expect(device(analysis, '2000.thing').reasons).toEqual([
      'no compatible string: vfio_platform_of_probe() "Cannot retrieve compat" (ENODATA)',
    ]);
    expect(device(analysis, 'soc:regulator').reasons).toEqual([
      'no MMIO region: vfio-platform would expose nothing for a VM to drive',
    ]);
  });

  it('an AMBA device needs no reset (vfio-amba sets reset_required = false)', () => {
    const host = board((soc) => {
      soc.node('rtc@2000', (rtc) => {
        rtc
          .string('compatible', 'arm,pl031', 'arm,primecell')
          .cells('arm,primecell-periphid', 0x00041031)
          .cells('reg', 0x2000, 0x1000);
      });
      soc.node('kmi@3000', (kmi) => {
        kmi
          .string('compatible', 'arm,pl050', 'arm,primecell')
          .cells('arm,primecell-periphid', 0x00041050)
          .cells('reg', 0x3000, 0x1000);
      });
    });
    const analysis = analyzeHost(host);
    expect(device(analysis, '2000.rtc')).toMatchObject({
      bus: 'amba',
      path: 'emulated',
      assignable: true,
      requires: [],
    });
    expect(device(analysis, '2000.rtc').reasons).toEqual([
      'emulated-IOMMU path through vfio-pl031 (vfiokit, loaded on request: modprobe vfio-pl031)',
    ]);
    // Generic route on AMBA: vfio-amba's deprecation, no reset requirement.
    const kmi = device(analysis, '3000.kmi');
    expect(kmi.requires).toEqual(['emulated_generic=1']);
    expect(kmi.reasons.at(-1)).toMatch(/^needs vfio-amba; Linux 6\.18/);
  });

  it('dependency kinds: power domains, PHYs, pin states of every pinctrl-N', () => {
    const host = board((soc) => {
      soc.node('power-controller@1000', (pd) => {
        pd.label('pd')
          .string('compatible', 'test,pd')
          .cells('reg', 0x1000, 0x100)
          .cells('#power-domain-cells', 1);
      });
      soc.node('phy@4000', (phy) => {
        phy.label('phy').string('compatible', 'test,phy').cells('reg', 0x4000, 0x100).cells('#phy-cells', 0);
      });
      soc.node('pinctrl@5000', (pc) => {
        pc.string('compatible', 'test,pinctrl').cells('reg', 0x5000, 0x100);
        pc.node('a', (s) => s.label('pa'));
        pc.node('b', (s) => s.label('pb'));
      });
      soc.node('usb@2000', (usb) => {
        usb
          .string('compatible', 'test,usb')
          .cells('reg', 0x2000, 0x100)
          .cells('power-domains', ref('pd'), 3)
          .cells('phys', ref('phy'))
          .cells('pinctrl-0', ref('pa'))
          .cells('pinctrl-1', ref('pb'));
      });
    });
    expect(device(analyzeHost(host), '2000.usb').dependencies).toEqual([
      { kind: 'power-domain', node: '/soc/power-controller@1000', owner: 'host' },
      { kind: 'pinctrl', node: '/soc/pinctrl@5000/a', owner: 'host' },
      { kind: 'pinctrl', node: '/soc/pinctrl@5000/b', owner: 'host' },
      { kind: 'phy', node: '/soc/phy@4000', owner: 'host' },
    ]);
  });
});

describe('boards with one address cell at the root (most 32-bit Arm boards)', () => {
  // host.ts firstRegBase read two cells from every memory node, so `reg = <0x60000000
  // 0x40000000>` became base 0x6000000040000000 and createHost threw EINVAL (355 of 1,566 boards
  // of Linux 6.12's arch/arm{,64}/boot/dts); a memory node starting mid-page threw EINVAL too.
  it.each([
    [0x6000_0000, 0x4000_0000],
    [0x0000_a800, 0x1000_0000],
  ])('memory at 0x%s boots and analyses', (base, size) => {
    const tree = new DeviceTreeBuilder()
      .root((root) => {
        root.cells('#address-cells', 1).cells('#size-cells', 1).string('compatible', 'test,arm32');
        root.node(`memory@${base.toString(16)}`, (m) =>
          m.string('device_type', 'memory').cells('reg', base, size),
        );
        root.node('rtc@10017000', (rtc) => {
          rtc
            .string('compatible', 'arm,pl031', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00041031)
            .cells('reg', 0x10017000, 0x1000);
        });
      })
      .build();
    const analysis = analyzeHost(createHost(tree));
    expect(device(analysis, '10017000.rtc')).toMatchObject({ path: 'emulated', assignable: true });
  });
});

// Invariants over every combination of the settings, on the demo SoC.
const settings = fc.record({
  reset_required: fc.boolean(),
  allow_unsafe_interrupts: fc.boolean(),
  enable_unsafe_noiommu_mode: fc.boolean(),
  emulated_generic: fc.boolean(),
});

const SETTING_OF: Record<string, keyof typeof OFF> = {
  'allow_unsafe_interrupts=1': 'allow_unsafe_interrupts',
  'enable_unsafe_noiommu_mode=1': 'enable_unsafe_noiommu_mode',
  'emulated_generic=1': 'emulated_generic',
};
const OFF = { allow_unsafe_interrupts: false, enable_unsafe_noiommu_mode: false, emulated_generic: false };
const demo = buildDemoSoc();

describe('analysis invariants (property)', () => {
  it('assignable ⇔ a path and nothing but unbinds needed; a requirement is never a setting already on', () => {
    fc.assert(
      fc.property(settings, (options: HostOptions) => {
        const analysis = analyzeHost(createHost(demo, options));
        for (const d of analysis.devices) {
          const onlyUnbinds = d.requires.every((r) => r.startsWith('unbind '));
          if (d.assignable) expect(d.path !== null && onlyUnbinds && d.status === 'okay').toBe(true);
          if (d.path === null) expect(d.assignable).toBe(false);
          for (const r of d.requires) {
            const key = SETTING_OF[r];
            if (key !== undefined) expect(options[key]).toBe(false);
            if (r.startsWith('reset_required=0')) expect(options.reset_required).toBe(true);
          }
        }
      }),
      { numRuns: 16 },
    );
  });

  it('turning a setting on never makes an assignable device unassignable (monotone)', () => {
    fc.assert(
      fc.property(
        settings,
        fc.constantFrom('allow_unsafe_interrupts', 'emulated_generic', 'reset_required'),
        (options, key) => {
          const before = analyzeHost(createHost(demo, options));
          const loosened =
            key === 'reset_required' ? { ...options, reset_required: false } : { ...options, [key]: true };
          const after = analyzeHost(createHost(demo, loosened));
          for (const d of before.devices.filter((x) => x.assignable)) {
            expect(after.devices.find((x) => x.name === d.name)?.assignable, `${d.name} after ${key}`).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 24 },
    );
  });
});

// Devices a kernel cannot hand over at run time, whatever the settings.
describe('devices the host cannot let go', () => {
  it('a PL011 bound to the built-in uart-pl011 (suppress_bind_attrs: no unbind file) is not assignable', () => {
    const tree = new DeviceTreeBuilder()
      .root((root) => {
        root.cells('#address-cells', 1).cells('#size-cells', 1).string('compatible', 'test,arm32');
        root.node('serial@10009000', (uart) => {
          uart
            .string('compatible', 'arm,pl011', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00241011)
            .cells('reg', 0x10009000, 0x1000);
        });
      })
      .build();
    const host = createHost(tree);
    expect(
      errnoOfRun(() => host.fs.write('/sys/bus/amba/drivers/uart-pl011/unbind', '10009000.serial')),
    ).toBe('ENOENT');
    const serial = device(analyzeHost(host), '10009000.serial');
    expect(serial.assignable).toBe(false);
    expect(serial.reasons.join(' ')).toMatch(/uart-pl011 has no unbind file \(suppress_bind_attrs/);
  });
});

describe('an interrupt a chained handler took', () => {
  it("QEMU virt's PL061 serves gpio-keys' line (gpios = <&gpio …>): the host needs it", () => {
    const gpio = device(analyzeHost(createHost(virtDtb())), '9030000.pl061');
    expect(gpio.assignable).toBe(false);
    expect(gpio.reasons.join(' ')).toMatch(/GPIO controller of 1 device/);
  });

  it("a PL061 nobody uses: pl061_gpio's chained handler leaves its line IRQ_NOREQUEST, so it is not assignable", () => {
    const tree = new DeviceTreeBuilder()
      .root((root) => {
        root
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .string('compatible', 'test,board')
          .cells('interrupt-parent', ref('gic'));
        root.node('interrupt-controller@8000000', (gic) =>
          gic
            .label('gic')
            .string('compatible', 'arm,gic-v3')
            .cells('#interrupt-cells', 3)
            .flag('interrupt-controller')
            .cells('reg', 0x0800_0000, 0x10000, 0x080a_0000, 0xf60000),
        );
        root.node('pl061@9030000', (gpio) =>
          gpio
            .string('compatible', 'arm,pl061', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00041061)
            .cells('reg', 0x0903_0000, 0x1000)
            .cells('interrupts', 0, 7, 4)
            .flag('gpio-controller')
            .cells('#gpio-cells', 2)
            .flag('interrupt-controller')
            .cells('#interrupt-cells', 2),
        );
      })
      .build();
    const host = createHost(tree);
    expect(host.irqChip.isNoRequest(39)).toBe(true);
    const gpio = device(analyzeHost(host), '9030000.pl061');
    expect(gpio.assignable).toBe(false);
    expect(gpio.reasons.join(' ')).toMatch(/interrupt 39 is IRQ_NOREQUEST/);
  });
});

function errnoOfRun(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? 'not a KernelError';
  }
  return 'ok';
}
