import { describe, expect, it } from 'vitest';
import { assessDmaCapability } from './assess.js';
import type { DmaFacts } from './facts.js';
import { MAX_REASON_LENGTH } from './verdict.js';

// One example per rule of the precedence in assess.ts, then the conflicts between rules.
const uart: DmaFacts = {
  path: '/pl011@9000000',
  deviceName: '9000000.pl011',
  compatible: ['arm,pl011', 'arm,primecell'],
};
const gadget: DmaFacts = {
  path: '/soc/gadget@1000',
  deviceName: '1000.gadget',
  compatible: ['vendor,gadget'],
};

describe('hard evidence of mastering → master', () => {
  it('iommus', () => {
    const v = assessDmaCapability({ ...gadget, iommus: ['/iommu@2b600000'] });
    expect(v).toMatchObject({ verdict: 'master', cannotDma: false, rule: 'iommus' });
    expect(v.reason).toBe('has iommus: masters DMA through /iommu@2b600000');
    expect(v.source).toContain('drivers/iommu/of_iommu.c');
  });

  it('an empty iommus list is no evidence', () => {
    expect(assessDmaCapability({ ...gadget, iommus: [] }).verdict).toBe('unknown');
  });

  it('iommu-map (a host bridge whose children master)', () => {
    expect(assessDmaCapability({ ...gadget, iommuMap: true })).toMatchObject({
      verdict: 'master',
      rule: 'iommu-map',
    });
  });

  it('msi-parent: a device that writes its MSIs to a doorbell issues memory writes itself', () => {
    const v = assessDmaCapability(
      { ...gadget, msiParent: true },
      { overrides: [{ path: '/soc/gadget@1000', verdict: 'non-master' }] },
    );
    expect(v).toMatchObject({ verdict: 'master', rule: 'msi-parent' });
    expect(v.reason).toBe(
      'has msi-parent: it writes its MSIs to memory, so it masters the bus; overrules user override',
    );
  });

  it('#dma-cells: a DMA controller', () => {
    const v = assessDmaCapability({ ...gadget, dmaCells: 1 });
    expect(v).toMatchObject({ verdict: 'master', rule: 'dma-controller' });
    expect(v.reason).toBe('DMA controller (#dma-cells = 1): masters the bus for its clients');
  });

  it('#dma-cells with dma-masters is a DMA router, which forwards requests and masters nothing', () => {
    const v = assessDmaCapability({ ...gadget, dmaCells: 2, dmaMasters: ['/soc/dma@2000'] });
    expect(v.verdict).toBe('unknown');
  });

  it("the node's own dma-coherent", () => {
    const v = assessDmaCapability({ ...gadget, dmaCoherent: true });
    expect(v).toMatchObject({ verdict: 'master', rule: 'dma-coherent' });
    expect(v.source).toContain('of_dma_is_coherent');
  });

  it('a hard-evidence verdict has no entry, and a master override that agrees is not a conflict', () => {
    const v = assessDmaCapability(
      { ...gadget, dmaCoherent: true },
      { overrides: [{ path: '/soc/gadget@1000', verdict: 'master' }] },
    );
    expect(v).not.toHaveProperty('entry');
    expect(v.overruled).toEqual([]);
    expect(v.reason).toBe('dma-coherent: the firmware says it does cache-coherent DMA');
  });

  it('the strongest evidence is reported first: iommus before #dma-cells before dma-coherent', () => {
    const v = assessDmaCapability({ ...gadget, dmaCoherent: true, dmaCells: 1, iommus: ['/smmu'] });
    expect(v.rule).toBe('iommus');
    expect(assessDmaCapability({ ...gadget, dmaCoherent: true, dmaCells: 1 }).rule).toBe('dma-controller');
  });
});

describe('user overrides', () => {
  it('by node path → non-master, with the user reason', () => {
    const v = assessDmaCapability(gadget, {
      overrides: [{ path: '/soc/gadget@1000', verdict: 'non-master', reason: 'sensor hub, APB slave' }],
    });
    expect(v).toMatchObject({
      verdict: 'non-master',
      cannotDma: true,
      rule: 'override',
      entry: 'path:/soc/gadget@1000',
    });
    expect(v.reason).toBe('user override by path: sensor hub, APB slave');
    expect(v.source).toBe('user override');
  });

  it('by device name', () => {
    const v = assessDmaCapability(gadget, { overrides: [{ device: '1000.gadget', verdict: 'non-master' }] });
    expect(v).toMatchObject({ verdict: 'non-master', entry: 'device:1000.gadget' });
    expect(v.reason).toBe('user override by device: declared unable to do DMA');
  });

  it('by compatible, anywhere in the list', () => {
    const v = assessDmaCapability(
      { ...gadget, compatible: ['vendor,gadget-v2', 'vendor,gadget'] },
      { overrides: [{ compatible: 'vendor,gadget', verdict: 'non-master' }] },
    );
    expect(v).toMatchObject({ verdict: 'non-master', entry: 'compatible:vendor,gadget' });
  });

  it('the most specific override wins: path over device over compatible', () => {
    const overrides = [
      { compatible: 'vendor,gadget', verdict: 'non-master' as const },
      { device: '1000.gadget', verdict: 'master' as const },
      { path: '/soc/gadget@1000', verdict: 'non-master' as const },
    ];
    expect(assessDmaCapability(gadget, { overrides }).entry).toBe('path:/soc/gadget@1000');
    expect(assessDmaCapability(gadget, { overrides: overrides.slice(0, 2) })).toMatchObject({
      verdict: 'master',
      entry: 'device:1000.gadget',
    });
  });

  it('a master override makes a table non-master device a master, and says what it overrules', () => {
    const v = assessDmaCapability(uart, { overrides: [{ path: '/pl011@9000000', verdict: 'master' }] });
    expect(v).toMatchObject({ verdict: 'master', rule: 'override' });
    expect(v.overruled).toEqual([expect.objectContaining({ rule: 'non-master-class', entry: 'arm,pl011' })]);
    expect(v.reason).toBe('user override by path: declared a bus master; overrules arm,pl011');
  });

  it('an override of another device does not apply', () => {
    expect(
      assessDmaCapability(gadget, { overrides: [{ path: '/other', verdict: 'non-master' }] }).verdict,
    ).toBe('unknown');
  });
});

describe('vfiokit,no-dma (vfiokit own device-tree property)', () => {
  it('empty → non-master', () => {
    const v = assessDmaCapability({ ...gadget, noDma: true });
    expect(v).toMatchObject({ verdict: 'non-master', rule: 'dt-property' });
    expect(v.reason).toBe('vfiokit,no-dma in the device tree');
    expect(v.source).toContain('not a Linux binding');
  });

  it('with a text → the text is the reason', () => {
    expect(assessDmaCapability({ ...gadget, noDma: 'thermal sensor, APB slave' }).reason).toBe(
      'vfiokit,no-dma in the device tree: thermal sensor, APB slave',
    );
  });

  it('a blank text is no reason', () => {
    expect(assessDmaCapability({ ...gadget, noDma: '  ' }).reason).toBe('vfiokit,no-dma in the device tree');
  });

  it('false is absent', () => {
    expect(assessDmaCapability({ ...gadget, noDma: false }).verdict).toBe('unknown');
  });

  it('noDma: false with dtProperty: false is nothing to ignore', () => {
    expect(assessDmaCapability({ ...gadget, noDma: false }, { dtProperty: false }).reason).toBe(
      'no rule proves it cannot do DMA (no override, no vfiokit,no-dma, no class entry)',
    );
  });

  it('is ignored with dtProperty: false, and the unknown reason says so', () => {
    const v = assessDmaCapability({ ...gadget, noDma: true }, { dtProperty: false });
    expect(v.verdict).toBe('unknown');
    expect(v.reason).toContain('ignored');
  });
});

describe('built-in class tables', () => {
  it('a known bus-master class (any compatible matches, globs allowed) → master', () => {
    const v = assessDmaCapability({ ...gadget, compatible: ['vendor,soc-ehci', 'generic-ehci'] });
    expect(v).toMatchObject({ verdict: 'master', rule: 'master-class', entry: 'generic-ehci' });
    expect(v.reason).toBe('USB host controller: EHCI/OHCI/xHCI fetch schedules and buffers from memory');
    expect(v.source).toContain('drivers/usb/host');
  });

  it('a simple peripheral class → non-master, with its source', () => {
    const v = assessDmaCapability(uart);
    expect(v).toMatchObject({
      verdict: 'non-master',
      cannotDma: true,
      rule: 'non-master-class',
      entry: 'arm,pl011',
    });
    expect(v.reason).toBe('PL011 UART: APB slave; DMA only via request lines');
    expect(v.source).toContain('drivers/tty/serial/amba-pl011.c');
  });

  it('the Arndale i2c at 12ce0000 (samsung,s3c2440-i2c) → non-master', () => {
    const v = assessDmaCapability({ path: '/i2c@12ce0000', compatible: ['samsung,s3c2440-i2c'] });
    expect(v).toMatchObject({ verdict: 'non-master', entry: 'samsung,s3c2440-i2c' });
  });

  it('the non-master table matches only the most specific compatible', () => {
    const v = assessDmaCapability({ ...gadget, compatible: ['vendor,uart-plus', 'arm,pl011'] });
    expect(v.verdict).toBe('unknown');
  });

  it('except register-only families, which match their fallback (rk3568 i2c, a vendor DW UART)', () => {
    const rk = assessDmaCapability({ ...gadget, compatible: ['rockchip,rk3568-i2c', 'rockchip,rk3399-i2c'] });
    expect(rk).toMatchObject({ verdict: 'non-master', entry: 'rockchip,rk3399-i2c' });
    const dw = assessDmaCapability({ ...gadget, compatible: ['rockchip,rk3399-uart', 'snps,dw-apb-uart'] });
    expect(dw).toMatchObject({ verdict: 'non-master', entry: 'snps,dw-apb-uart' });
  });

  it("a periphid naming another part or designer rules a PrimeCell entry out (ST's PL011 variant)", () => {
    const st = assessDmaCapability({ ...uart, periphid: 0x00380802 });
    expect(st.verdict).toBe('unknown');
    expect(st.reason).toBe("periphid 0x00380802 is not ARM's PL011 UART: no rule applies");
    expect(assessDmaCapability({ ...uart, periphid: 0x00341011 }).verdict).toBe('non-master');
  });

  it('a periphid on a node whose entry is no PrimeCell does not matter', () => {
    const v = assessDmaCapability({ ...gadget, compatible: ['arm,sbsa-uart'], periphid: 0x00041011 });
    expect(v).toMatchObject({ verdict: 'non-master', entry: 'arm,sbsa-uart' });
  });

  it('builtinNonMasterClasses: false turns the table off', () => {
    const v = assessDmaCapability(uart, { builtinNonMasterClasses: false });
    expect(v.verdict).toBe('unknown');
    expect(v.reason).toBe('no rule proves it cannot do DMA (class table off; PL011 UART)');
  });

  it('a master class wins over a non-master class of the same node', () => {
    const v = assessDmaCapability({ ...gadget, compatible: ['arm,pl011', 'generic-ahci'] });
    expect(v).toMatchObject({ verdict: 'master', rule: 'master-class' });
    expect(v.overruled).toEqual([expect.objectContaining({ rule: 'non-master-class' })]);
  });
});

describe('unknown', () => {
  it('everything else, with a reason and a rule id', () => {
    const v = assessDmaCapability(gadget);
    expect(v).toMatchObject({ verdict: 'unknown', cannotDma: false, rule: 'no-rule', overruled: [] });
    expect(v.reason).toBe('no rule proves it cannot do DMA (no override, no vfiokit,no-dma, no class entry)');
  });

  it('options that switch rules off do not change the reason of a device they do not concern', () => {
    const v = assessDmaCapability(gadget, { dtProperty: false, builtinNonMasterClasses: false });
    expect(v.reason).toBe('no rule proves it cannot do DMA (no override, no vfiokit,no-dma, no class entry)');
  });

  it('no compatible at all', () => {
    expect(assessDmaCapability({ compatible: [] }).verdict).toBe('unknown');
  });

  it('status does not change the verdict: capability is a property of the hardware', () => {
    expect(assessDmaCapability({ ...uart, status: 'disabled' }).verdict).toBe('non-master');
    expect(assessDmaCapability({ ...gadget, status: 'disabled', dmaCells: 1 }).verdict).toBe('master');
  });
});

describe('dmas: channels of a DMA engine the device does not own', () => {
  const dmas = [
    { provider: '/soc/dma@7ff00000', name: 'tx' },
    { provider: '/soc/dma@7ff00000', name: 'rx' },
  ];

  it('are listed once each in dependsOnDmaEngine, whatever the verdict', () => {
    expect(assessDmaCapability({ ...gadget, dmas }).dependsOnDmaEngine).toEqual(['/soc/dma@7ff00000']);
    expect(assessDmaCapability({ ...gadget, dmas, dmaCoherent: true }).dependsOnDmaEngine).toEqual([
      '/soc/dma@7ff00000',
    ]);
    expect(assessDmaCapability(gadget).dependsOnDmaEngine).toEqual([]);
  });

  it('a PL011 with dmas stays non-master: the engine masters, stays with the host, the guest uses PIO', () => {
    const v = assessDmaCapability({ ...uart, dmas });
    expect(v.verdict).toBe('non-master');
    expect(v.reason).toBe(
      'PL011 UART: APB slave; DMA only via request lines; its DMA engine stays with the host (PIO only)',
    );
  });

  it('without a rule the device is unknown, and the reason names the dependency', () => {
    expect(assessDmaCapability({ ...gadget, dmas }).reason).toBe(
      'no rule proves it cannot do DMA; uses DMA engines it does not own',
    );
  });

  it('a device naming itself in dmas does not depend on itself', () => {
    expect(
      assessDmaCapability({ ...gadget, dmas: [{ provider: '/soc/gadget@1000' }] }).dependsOnDmaEngine,
    ).toEqual([]);
  });
});

describe('conflicts: hard evidence wins over every explicit non-master rule', () => {
  it('iommus + a non-master override + vfiokit,no-dma + the pl011 table entry → master, all three overruled', () => {
    const v = assessDmaCapability(
      { ...uart, iommus: ['/smmu@2b500000'], noDma: true },
      { overrides: [{ path: '/pl011@9000000', verdict: 'non-master' }] },
    );
    expect(v).toMatchObject({ verdict: 'master', cannotDma: false, rule: 'iommus' });
    expect(v.overruled.map((ref) => ref.rule)).toEqual(['override', 'dt-property', 'non-master-class']);
    expect(v.reason).toBe(
      'has iommus: masters DMA through /smmu@2b500000; overrules user override, vfiokit,no-dma, arm,pl011',
    );
  });

  it('dma-coherent beats a user non-master override', () => {
    const v = assessDmaCapability(
      { ...gadget, dmaCoherent: true },
      { overrides: [{ device: '1000.gadget', verdict: 'non-master' }] },
    );
    expect(v.verdict).toBe('master');
    expect(v.overruled).toEqual([expect.objectContaining({ rule: 'override', entry: 'device:1000.gadget' })]);
  });

  it('a device-specific rule (override, vfiokit,no-dma) beats a generic master class, and says so', () => {
    const mac = { ...gadget, compatible: ['vendor,mac', 'snps,dwmac'] };
    const byOverride = assessDmaCapability(mac, {
      overrides: [{ compatible: 'vendor,mac', verdict: 'non-master' }],
    });
    expect(byOverride).toMatchObject({ verdict: 'non-master', rule: 'override' });
    expect(byOverride.overruled).toEqual([
      expect.objectContaining({ rule: 'master-class', entry: 'snps,dwmac' }),
    ]);
    const byProperty = assessDmaCapability({ ...mac, noDma: true });
    expect(byProperty).toMatchObject({ verdict: 'non-master', rule: 'dt-property' });
    expect(byProperty.reason).toBe('vfiokit,no-dma in the device tree; overrules snps,dwmac');
  });

  it('a user master override beats vfiokit,no-dma', () => {
    const v = assessDmaCapability(
      { ...gadget, noDma: true },
      { overrides: [{ path: '/soc/gadget@1000', verdict: 'master' }] },
    );
    expect(v.verdict).toBe('master');
    expect(v.overruled.map((ref) => ref.rule)).toEqual(['dt-property']);
  });
});

describe('reasons', () => {
  it('are one line of at most 100 characters, even from a long multi-line user text', () => {
    const v = assessDmaCapability({ ...gadget, noDma: `line one\n${'x'.repeat(300)}` });
    expect(v.reason).not.toMatch(/\n/);
    expect(v.reason).toHaveLength(MAX_REASON_LENGTH);
    expect(v.reason.endsWith('…')).toBe(true);
  });
});
