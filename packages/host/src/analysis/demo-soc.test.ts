import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf } from '../test-support.js';
import { analyzeHost } from './analyze.js';
import { buildDemoSoc, DEMO_SOC_SOURCE } from './demo-soc.js';
import type { DeviceAnalysis, HostAnalysis } from './types.js';

const analyze = (options: Parameters<typeof createHost>[1] = {}): HostAnalysis =>
  analyzeHost(createHost(buildDemoSoc(), options), { source: DEMO_SOC_SOURCE });

const byName = (analysis: HostAnalysis, name: string): DeviceAnalysis => {
  const device = analysis.devices.find((d) => d.name === name);
  if (device === undefined) throw new RangeError(`no ${name}`);
  return device;
};

// [name, bus, DMA verdict, path, assignable, requires] on the default host (6.12, reset_required=1).
const EXPECTED: readonly [string, string, string, string | null, boolean, string[]][] = [
  ['soc', 'platform', 'unknown', null, false, []],
  ['10010000.clock-controller', 'platform', 'unknown', null, false, []],
  ['11400000.pinctrl', 'platform', 'unknown', null, false, []],
  ['1c0b0000.gpio', 'amba', 'non-master', null, false, []],
  ['1c090000.serial', 'amba', 'non-master', null, false, []],
  ['1c170000.rtc', 'amba', 'non-master', 'emulated', true, []],
  ['2b400000.iommu', 'platform', 'master', null, false, []],
  ['7ff00000.dma-controller', 'amba', 'master', 'smmu', false, ['allow_unsafe_interrupts=1']],
  ['fff50000.ethernet', 'platform', 'master', 'smmu', true, []],
  [
    '40000000.accelerator',
    'platform',
    'master',
    'smmu',
    false,
    [
      'allow_unsafe_interrupts=1',
      'reset_required=0 or a reset module for vfiokit,demo-accel',
      'unbind 40100000.accelerator-dma',
    ],
  ],
  [
    '40100000.accelerator-dma',
    'platform',
    'master',
    'smmu',
    false,
    [
      'allow_unsafe_interrupts=1',
      'reset_required=0 or a reset module for vfiokit,demo-accel-dma',
      'unbind 40000000.accelerator',
    ],
  ],
  [
    '12ce0000.i2c',
    'platform',
    'non-master',
    'emulated',
    false,
    ['emulated_generic=1', 'reset_required=0 or a reset module for samsung,s3c2440-i2c'],
  ],
  [
    '10060000.sensor',
    'platform',
    'unknown',
    'emulated',
    false,
    [
      'dma_override=device:10060000.sensor:non-master',
      'emulated_generic=1',
      'reset_required=0 or a reset module for vfiokit,demo-sensor',
    ],
  ],
  [
    'ff200000.sata',
    'platform',
    'master',
    'noiommu',
    false,
    ['enable_unsafe_noiommu_mode=1', 'reset_required=0 or a reset module for generic-ahci'],
  ],
  ['1c0a0000.serial', 'amba', 'non-master', null, false, []],
];

describe('the demo SoC (built in code) shows every kind of answer', () => {
  const analysis = analyze();

  it('lists every device in population order, then the disabled UART', () => {
    expect(analysis.source).toBe(DEMO_SOC_SOURCE);
    expect(
      analysis.devices.map((d) => [d.name, d.bus, d.dma.verdict, d.path, d.assignable, d.requires]),
    ).toEqual(EXPECTED);
    expect(byName(analysis, '1c0a0000.serial').status).toBe('disabled');
    expect(byName(analysis, '1c0a0000.serial').reset).toBeNull();
  });

  it('has every DMA verdict, every path, and both answers', () => {
    expect(new Set(analysis.devices.map((d) => d.dma.verdict))).toEqual(
      new Set(['master', 'non-master', 'unknown']),
    );
    expect(new Set(analysis.devices.map((d) => d.path))).toEqual(
      new Set(['smmu', 'emulated', 'noiommu', null]),
    );
    expect(new Set(analysis.devices.map((d) => d.assignable))).toEqual(new Set([true, false]));
  });

  it('takes the groups from the host: the accelerator pair (one stream ID) shares one, ids in probe order', () => {
    // bus_iommu_probe walks the platform bus before the AMBA bus (iommu_buses[]), so the
    // PL330 (AMBA) gets the last id.
    expect(analysis.groups).toEqual([
      { id: 0, iommu: '/soc/iommu@2b400000', devices: ['fff50000.ethernet'], viable: true },
      {
        id: 1,
        iommu: '/soc/iommu@2b400000',
        devices: ['40000000.accelerator', '40100000.accelerator-dma'],
        viable: true,
      },
      { id: 2, iommu: '/soc/iommu@2b400000', devices: ['7ff00000.dma-controller'], viable: true },
    ]);
    const host = createHost(buildDemoSoc());
    const again = analyzeHost(host);
    for (const group of again.groups) expect(host.iommuGroupOf(group.devices[0] ?? '')?.id).toBe(group.id);
    expect(byName(analysis, '7ff00000.dma-controller').iommu).toEqual({
      node: '/soc/iommu@2b400000',
      streamIds: [0],
      group: 2,
    });
  });

  it('MSI: the ITS isolates (IRQ_DOMAIN_FLAG_ISOLATED_MSI since v6.3), the GICv2m frame does not', () => {
    expect(byName(analysis, 'fff50000.ethernet').msi).toEqual({
      parent: '/interrupt-controller@2f000000/msi-controller@2f020000',
      isolated: true,
    });
    expect(byName(analysis, '40000000.accelerator').msi).toEqual({
      parent: '/interrupt-controller@2f000000/v2m@2f040000',
      isolated: false,
    });
    expect(byName(analysis, '7ff00000.dma-controller').msi).toBeNull();
  });

  it('version facts: the xgmac reset module and vfio-amba with the kernel 6.18 texts', () => {
    const xgmac = byName(analysis, 'fff50000.ethernet');
    expect(xgmac.reset).toEqual({
      provider: 'module',
      name: 'calxeda,hb-xgmac',
      deprecated:
        'DEPRECATION: VFIO Calxeda xgmac platform reset is deprecated and will be removed in a future kernel release',
    });
    expect(xgmac.reasons.some((r) => r.includes('Linux 6.18') && r.includes('Calxeda xgmac'))).toBe(true);
    expect(byName(analysis, '7ff00000.dma-controller').reasons).toContain(
      'needs vfio-amba; Linux 6.18: "DEPRECATION: vfio-amba is deprecated and will be removed in a future kernel release"',
    );
    // The emulated path through vfio-pl011 does not use vfio-amba.
    expect(byName(analysis, '1c090000.serial').reasons.join()).not.toMatch(/vfio-amba/);
  });

  it('dependencies: host clock controller, pins, a GPIO interrupt parent; fixed clocks and the GIC are irrelevant', () => {
    expect(byName(analysis, '10060000.sensor').dependencies).toEqual([
      { kind: 'clock', node: '/soc/clock-controller@10010000', owner: 'host' },
      { kind: 'reset', node: '/soc/clock-controller@10010000', owner: 'host' },
      { kind: 'interrupt-parent', node: '/soc/gpio@1c0b0000', owner: 'host' },
    ]);
    expect(byName(analysis, '12ce0000.i2c').dependencies).toEqual([
      { kind: 'clock', node: '/soc/clock-controller@10010000', owner: 'host' },
      { kind: 'pinctrl', node: '/soc/pinctrl@11400000/i2c2-bus', owner: 'host' },
      { kind: 'interrupt-parent', node: '/interrupt-controller@2f000000', owner: 'irrelevant' },
    ]);
    expect(byName(analysis, '1c090000.serial').dependencies).toEqual([
      { kind: 'clock', node: '/refclk24mhz', owner: 'irrelevant' },
      { kind: 'interrupt-parent', node: '/interrupt-controller@2f000000', owner: 'irrelevant' },
    ]);
  });

  it('the providers stay with the host, with what they provide', () => {
    expect(byName(analysis, '10010000.clock-controller').reasons).toEqual([
      'the host needs it: clock provider of 2 devices, reset controller of 1 device',
    ]);
    expect(byName(analysis, '2b400000.iommu').reasons).toEqual(['the host needs it: IOMMU of 4 devices']);
    expect(byName(analysis, '1c0b0000.gpio').reasons).toEqual([
      'the host needs it: interrupt controller of 1 device',
    ]);
    expect(byName(analysis, 'soc').reasons).toEqual(['the host needs it: bus of 13 devices']);
  });

  it('reports the settings it ran with', () => {
    expect(analysis.settings).toEqual({
      kernel: '6.12',
      reset_required: true,
      allow_unsafe_interrupts: false,
      enable_unsafe_noiommu_mode: false,
      dma_entry_limit: 65535,
      reset_modules: ['calxeda,hb-xgmac', 'amd,xgbe-seattle-v1a'],
      dma_policy: { overrides: [], dt_property: true, builtin_classes: true },
      emulated_generic: false,
    });
  });
});

describe('settings change the answers', () => {
  const assignable = (analysis: HostAnalysis): string[] =>
    analysis.devices.filter((d) => d.assignable).map((d) => d.name);

  it('allow_unsafe_interrupts=1 (typed or on the command line) lets the PL330 attach without isolated MSIs', () => {
    for (const options of [
      { allow_unsafe_interrupts: true },
      { cmdline: 'vfio_iommu_type1.allow_unsafe_interrupts=1' },
    ]) {
      const pl330 = byName(analyze(options), '7ff00000.dma-controller');
      expect(pl330.assignable).toBe(true);
      expect(pl330.requires).toEqual([]);
      expect(pl330.reasons.some((r) => r.endsWith('allowed by allow_unsafe_interrupts=1'))).toBe(true);
    }
  });

  it('reset_required=0 leaves the accelerators needing only interrupts and the group unbind', () => {
    const accel = byName(analyze({ reset_required: false }), '40000000.accelerator');
    expect(accel.requires).toEqual(['allow_unsafe_interrupts=1', 'unbind 40100000.accelerator-dma']);
    const both = byName(
      analyze({ reset_required: false, allow_unsafe_interrupts: true }),
      '40000000.accelerator',
    );
    expect(both.assignable).toBe(true);
    expect(both.requires).toEqual(['unbind 40100000.accelerator-dma']);
  });

  it('enable_unsafe_noiommu_mode=1 gives the SATA controller the no-IOMMU path', () => {
    const sata = byName(
      analyze({ enable_unsafe_noiommu_mode: true, reset_required: false }),
      'ff200000.sata',
    );
    expect(sata.path).toBe('noiommu');
    expect(sata.assignable).toBe(true);
    expect(sata.reasons[0]).toMatch(/taints the kernel/);
  });

  it('emulated_generic=1 opens the RFC route for the I2C controller', () => {
    const i2c = byName(analyze({ emulated_generic: true, reset_required: false }), '12ce0000.i2c');
    expect(i2c).toMatchObject({ path: 'emulated', assignable: true, requires: [] });
  });

  it('a DMA override (typed or vfiokit.dma_override) makes the unknown sensor non-master', () => {
    for (const options of [
      { dma_policy: { overrides: [{ device: '10060000.sensor', verdict: 'non-master' as const }] } },
      { cmdline: 'vfiokit.dma_override=device:10060000.sensor:non-master' },
    ]) {
      const sensor = byName(
        analyze({ ...options, emulated_generic: true, reset_required: false }),
        '10060000.sensor',
      );
      expect(sensor.dma.verdict).toBe('non-master');
      expect(sensor.assignable).toBe(true);
    }
  });

  it('before v6.3 MSI isolation was system-wide: any ITS isolates every device (irq_domain_check_msi_remap)', () => {
    const old = analyze({ profile: { version: [6, 2] } });
    expect(byName(old, '7ff00000.dma-controller').requires).toEqual([]);
    expect(byName(old, '40000000.accelerator').msi?.isolated).toBe(true);
    expect(old.settings.kernel).toBe('6.2');
  });

  it('with every setting on, everything with a path is assignable', () => {
    const all = analyze({
      allow_unsafe_interrupts: true,
      reset_required: false,
      enable_unsafe_noiommu_mode: true,
      emulated_generic: true,
    });
    expect(assignable(all)).toEqual(all.devices.filter((d) => d.path !== null).map((d) => d.name));
    // With no-IOMMU mode on, a device whose DMA nothing proves takes that path, not the emulated one.
    expect(byName(all, '10060000.sensor').path).toBe('noiommu');
  });

  it('no reset modules built in: the xgmac needs reset_required=0', () => {
    const xgmac = byName(analyze({ resetModules: [] }), 'fff50000.ethernet');
    expect(xgmac.reset).toEqual({ provider: 'none', name: null, deprecated: null });
    expect(xgmac.requires).toEqual(['reset_required=0 or a reset module for calxeda,hb-xgmac']);
  });
});

describe('analyzeHost options and side effects', () => {
  it('refuses unknown keys and a non-string source with EINVAL', () => {
    const host = createHost(buildDemoSoc());
    expect(errnoOf(() => analyzeHost(host, { sourc: 'x' } as never))).toBe('EINVAL');
    expect(errnoOf(() => analyzeHost(host, { source: 1 } as never))).toBe('EINVAL');
  });

  it('leaves the host as it found it (no reset-module references held, same answer twice)', () => {
    const host = createHost(buildDemoSoc());
    const first = analyzeHost(host);
    expect(host.resets.usersOf('vfio-platform-calxedaxgmac')).toBe(0);
    expect(host.resets.registrations().every((r) => host.resets.usersOf(r.owner) === 0)).toBe(true);
    expect(analyzeHost(host)).toEqual(first);
    expect(first.source).toBe('device tree');
  });

  it('rejects a bad dma_policy and a bad vfiokit.dma_override value (logged, ignored)', () => {
    expect(
      errnoOf(() => createHost(buildDemoSoc(), { dma_policy: { overrides: [{ verdict: 'x' }] } as never })),
    ).toBe('EINVAL');
    const host = createHost(buildDemoSoc(), { cmdline: 'vfiokit.dma_override=nonsense' });
    expect(host.log).toContain("Booting kernel: `nonsense' invalid for parameter `vfiokit.dma_override'");
    expect(host.params.dma_policy).toEqual({});
  });
});
