// The README's usage example, verbatim apart from the assertions, and its tables kept true.
import { readFileSync } from 'node:fs';
import { physAddr } from '@vfiokit/core';
import { DriverCore } from '@vfiokit/platform-bus';
import { ResetRegistry } from '@vfiokit/reset-modules';
import { SimpleIrqChip, Vfio } from '@vfiokit/vfio';
import { describe, expect, it } from 'vitest';
import {
  assessDmaCapability,
  type DmaClassEntry,
  defineEmulatedDriver,
  emulatedDriverData,
  emulatedPlatformDriver,
  MASTER_CLASSES,
  NON_MASTER_CLASSES,
  OfDmaCapabilityPolicy,
  VFIOKIT_NO_DMA_PROPERTY,
} from './index.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README usage', () => {
  it('judges a PL011, a PL330 with a non-master override, and an unknown sensor before and after an override', () => {
    const printed: string[] = [];
    const console = { log: (...parts: unknown[]) => printed.push(parts.join(' ')) };

    // Firmware facts of device nodes, as @vfiokit/host reads them from the device tree.
    const uart = {
      path: '/pl011@9000000',
      deviceName: '9000000.pl011',
      compatible: ['arm,pl011', 'arm,primecell'],
    };
    const pl330 = {
      path: '/dma-controller@7ff00000',
      compatible: ['arm,pl330', 'arm,primecell'],
      iommus: ['/iommu@7fb00000'],
      dmaCells: 1,
    };
    const sensor = { path: '/soc/sensor@1c0f0000', compatible: ['vendor,thermal-sensor'] };

    const verdict = assessDmaCapability(uart);
    console.log(verdict.verdict, verdict.rule, verdict.entry, '—', verdict.reason);
    // non-master non-master-class arm,pl011 — PL011 UART: APB slave; DMA only via request lines

    // An explicit non-master rule never overrules hard evidence of mastering.
    const forced = assessDmaCapability(pl330, { overrides: [{ path: pl330.path, verdict: 'non-master' }] });
    console.log(forced.verdict, '—', forced.reason);
    // master — has iommus: masters DMA through /iommu@7fb00000; overrules user override

    // Everything no rule covers is `unknown` until the user (or the device tree) says otherwise.
    console.log(assessDmaCapability(sensor).verdict); // unknown
    const options = {
      overrides: [
        { compatible: 'vendor,thermal-sensor', verdict: 'non-master' as const, reason: 'APB registers only' },
      ],
    };
    console.log(assessDmaCapability(sensor, options).reason);
    // user override by compatible: APB registers only

    // vfio's DmaCapabilityPolicy: vfio-platform asks it at probe with the bus device; the policy
    // finds the device's facts by its of_node path.
    const facts = new Map([uart, pl330, sensor].map((node) => [node.path, node]));
    const policy = new OfDmaCapabilityPolicy((ofNode) => facts.get(ofNode), options);
    // vfioPlatformDriver({ vfio, resets, irqChip, iommuGroupOf, dmaPolicy: policy })

    expect(printed).toEqual([
      'non-master non-master-class arm,pl011 — PL011 UART: APB slave; DMA only via request lines',
      'master — has iommus: masters DMA through /iommu@7fb00000; overrules user override',
      'unknown',
      'user override by compatible: APB registers only',
    ]);
    for (const line of printed.slice(0, 2)) expect(README).toContain(`// ${line}`);
    const core = new DriverCore();
    const device = core.platform.addDevice({
      name: '1c0f0000.sensor',
      bus: 'platform',
      ofNode: sensor.path,
      compatible: sensor.compatible,
    });
    expect(policy.assess(device)).toMatchObject({ verdict: 'non-master', cannotDma: true });
  });

  it('the README shows the example this test runs', () => {
    const source = readFileSync(new URL('./readme.test.ts', import.meta.url), 'utf8');
    const block = README.split('```ts\n')[1]?.split('```')[0] ?? '';
    const body = block.split('\n').slice(2).join('\n').trim(); // after the import line and a blank
    const unindented = source
      .split('\n')
      .map((line) => line.replace(/^ {4}/, ''))
      .join('\n');
    expect(body.length).toBeGreaterThan(0);
    expect(unindented).toContain(body);
  });
});

describe('README driver-kit example', () => {
  it('declares a device-specific emulated driver, binds it only through driver_override, registers an emulated group', () => {
    const printed: string[] = [];
    const console = {
      log: (...parts: unknown[]) =>
        printed.push(
          parts
            .map((p) => (Array.isArray(p) ? `[ ${p.map((x) => `'${String(x)}'`).join(', ')} ]` : String(p)))
            .join(' '),
        ),
    };

    // A driver for one device family: what it matches, what it exposes, and why it cannot do DMA.
    const VFIO_S3C_I2C = defineEmulatedDriver({
      name: 'vfio-s3c-i2c',
      bus: 'platform',
      ofMatchTable: ['samsung,s3c2440-i2c'],
      regions: [{ name: 'IIC registers', size: 0x100 }],
      irqs: [{ name: 'IIC' }],
      noDma: { reason: 'Samsung I2C: byte-wide IICDS, no DMA', source: 'Exynos5250 UM (IIC)' },
    });

    // vfio-platform's environment (what @vfiokit/host passes): vfio, resets, irqChip, mmio?, log?.
    const vfio = new Vfio();
    const env = { vfio, resets: new ResetRegistry(), irqChip: new SimpleIrqChip({ 60: 'level-high' }) };
    const core = new DriverCore();
    core.platform.registerDriver(emulatedPlatformDriver(VFIO_S3C_I2C, env));
    const i2c = core.platform.addDevice({
      name: '12c60000.i2c',
      bus: 'platform',
      compatible: ['samsung,s3c2440-i2c'],
      regions: [{ start: physAddr(0x12c6_0000), size: 0x100 }],
      irqs: [60],
    });
    console.log(i2c.driverName); // null: it binds only through driver_override
    core.platform.setDriverOverride(i2c.name, 'vfio-s3c-i2c');
    core.platform.driversProbe(i2c.name);
    console.log(emulatedDriverData(i2c)?.registration, [...vfio.groups.keys()], vfio.taint);
    // emulated [ '0' ] 0   — /dev/vfio/0, no IOMMU, no taint

    expect(printed).toEqual(['null', "emulated [ '0' ] 0"]);
  });

  it('the README shows the example this test runs', () => {
    const source = readFileSync(new URL('./readme.test.ts', import.meta.url), 'utf8');
    const block = README.split('```ts\n')[2]?.split('```')[0] ?? '';
    const body = block.split('\n').slice(6).join('\n').trim(); // after the five imports and a blank
    const unindented = source
      .split('\n')
      .map((line) => line.replace(/^ {4}/, ''))
      .join('\n');
    expect(body.length).toBeGreaterThan(0);
    expect(unindented).toContain(body);
  });
});

describe('README tables', () => {
  const rowOf = (entry: DmaClassEntry) =>
    README.split('\n').find((line) => line.startsWith(`| \`${entry.id}\` |`));

  it.each([...NON_MASTER_CLASSES, ...MASTER_CLASSES].map((entry) => [entry.id, entry] as const))(
    '%s has its row with every compatible, its reason and its source',
    (_id, entry) => {
      const row = rowOf(entry);
      expect(row).toBeDefined();
      for (const compatible of entry.compatibles) expect(row).toContain(`\`${compatible}\``);
      expect(row).toContain(`${entry.label}: ${entry.reason}`);
      expect(row).toContain(entry.source);
      expect(row?.includes('*(family)*')).toBe(entry.matchFallback === true);
    },
  );

  it('documents the DT property as vfiokit own, not a Linux binding', () => {
    expect(README).toContain(`\`${VFIOKIT_NO_DMA_PROPERTY}\``);
    expect(README).toMatch(/vfiokit's own property, not a Linux binding/);
  });
});
