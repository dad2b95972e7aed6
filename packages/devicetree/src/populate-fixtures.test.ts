// Population and resolution on the real trees of ../shared/fixtures, checked against facts
// read from their decompiled .dts oracles and MANIFEST.md (not from this code's output).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFdt } from './index.js';
import { addressToResource } from './of-address.js';
import { parsePhandleList } from './of-phandle.js';
import { OfTree } from './of-tree.js';
import { populate } from './populate.js';
import type { DtDevice } from './populate-types.js';
import { FIXTURES_DIR } from './test-support/fixtures.js';
import type { DeviceTree } from './tree.js';

const FIXTURES = FIXTURES_DIR;

function load(sub: 'dtb' | 'corpus', file: string): DeviceTree {
  return parseFdt(new Uint8Array(readFileSync(`${FIXTURES}${sub}/${file}`)));
}

function byName(devices: readonly DtDevice[]): Map<string, DtDevice> {
  return new Map(devices.map((d) => [d.name, d]));
}

/** MANIFEST.md lines "- `PATH` ...; iommus -> `IOMMU` (N entries, stream IDs a,b,...)". */
function manifestIommus(): { fixture: string; path: string; iommu: string; ids: number[] }[] {
  const text = readFileSync(`${FIXTURES}dtb/MANIFEST.md`, 'utf8');
  const out: { fixture: string; path: string; iommu: string; ids: number[] }[] = [];
  let fixture = '';
  for (const line of text.split('\n')) {
    const heading = /^## (\S+\.dtb)/.exec(line);
    if (heading !== null) fixture = heading[1]!;
    const m = /^- `([^`]+)`.*iommus -> `([^`]+)` \(\d+ entr(?:y|ies), stream IDs ([\d,]+)\)/.exec(line);
    if (m !== null) out.push({ fixture, path: m[1]!, iommu: m[2]!, ids: m[3]!.split(',').map(Number) });
  }
  return out;
}

describe('Juno r2 (fixtures/dtb/juno-r2.dtb)', () => {
  const tree = load('dtb', 'juno-r2.dtb');
  const result = populate(tree);
  const devices = byName(result.devices);

  it('the PL330 is AMBA device 7ff00000.dma-controller behind /iommu@7fb00000 with stream IDs 0-8', () => {
    const pl330 = devices.get('7ff00000.dma-controller');
    expect(pl330).toBeDefined();
    expect(pl330!.bus).toBe('amba');
    expect(pl330!.path).toBe('/dma-controller@7ff00000');
    expect(pl330!.compatible).toEqual(['arm,pl330', 'arm,primecell']);
    expect(pl330!.regions.map((r) => [r.address, r.size])).toEqual([[0x7ff00000n, 0x1000n]]);
    expect(pl330!.iommus.map((l) => l.target)).toEqual(Array(9).fill('/iommu@7fb00000'));
    expect(pl330!.iommus.map((l) => l.args)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((id) => [id]));
    // interrupts = <0 0x58 4 ... 0 0x6f 4>: SPIs 88-92 and 108-111 -> INTID + 32, level-high.
    expect(pl330!.irqs.map((i) => i.intid)).toEqual(
      [0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x6c, 0x6d, 0x6e, 0x6f].map((n) => n + 32),
    );
    expect(new Set(pl330!.irqs.map((i) => `${i.controller} ${i.trigger}`))).toEqual(
      new Set(['/interrupt-controller@2c010000 level-high']),
    );
    expect(pl330!.clocks.map((l) => l.name)).toEqual(['apb_pclk']);
    expect(pl330!.dmaCoherent).toBe(false);
  });

  it('has four arm,gic-v2m-frame MSI controllers under the GIC, translated through its ranges', () => {
    const view = OfTree.of(tree);
    const frames = view.nodes.filter((n) => n.isCompatible('arm,gic-v2m-frame'));
    expect(frames.map((n) => n.path)).toEqual(
      [0, 0x10000, 0x20000, 0x30000].map((o) => `/interrupt-controller@2c010000/v2m@${o.toString(16)}`),
    );
    expect(frames.every((n) => n.has('msi-controller') && n.available)).toBe(true);
    // GIC ranges = <0 0 0x2c1c0000 0x40000>
    expect(frames.map((n) => addressToResource(n, 0)?.address)).toEqual([
      0x2c1c0000n,
      0x2c1d0000n,
      0x2c1e0000n,
      0x2c1f0000n,
    ]);
    // The PCIe host's msi-parent names the first frame.
    expect(devices.get('40000000.pcie')?.msiParent?.target).toBe('/interrupt-controller@2c010000/v2m@0');
  });

  it('the GIC, set up by of_irq_init(), gets no platform device; its frames are not populated either', () => {
    expect(result.devices.some((d) => d.path.startsWith('/interrupt-controller@2c010000'))).toBe(false);
  });

  it('every arm,primecell node of the MANIFEST is an AMBA device (45), none is skipped', () => {
    const view = OfTree.of(tree);
    const primecells = view.nodes
      .filter((n) => n.isCompatible('arm,primecell') && n.available)
      .map((n) => n.path);
    expect(primecells).toHaveLength(45);
    const amba = result.devices.filter((d) => d.bus === 'amba').map((d) => d.path);
    expect(new Set(amba)).toEqual(new Set(primecells));
    expect(result.skipped).toEqual([]);
  });

  it('the disabled /iommu@2b400000 is not a device; the enabled SMMUs are, dma-coherent as listed', () => {
    expect([...devices.values()].some((d) => d.path === '/iommu@2b400000')).toBe(false);
    expect(devices.get('2b500000.iommu')?.dmaCoherent).toBe(true);
    expect(devices.get('7fb10000.iommu')?.dmaCoherent).toBe(false);
  });

  it('names the nested motherboard buses as the kernel does (no reg: full names joined by ":")', () => {
    expect(devices.has('bus@8000000:motherboard-bus@8000000')).toBe(true);
    expect(devices.has('bus@8000000:motherboard-bus@8000000:iofpga-bus@300000000')).toBe(true);
    expect(devices.get('1c0f0000.watchdog')?.parent).toBe(
      'bus@8000000:motherboard-bus@8000000:iofpga-bus@300000000',
    );
  });
});

describe('MANIFEST iommus facts (fixtures/dtb/MANIFEST.md)', () => {
  const facts = manifestIommus();

  it('the manifest lists iommus masters', () => {
    expect(facts.length).toBeGreaterThan(0);
  });

  it.each(facts.map((f) => [f.fixture, f.path, f] as const))('%s %s', (fixture, path, fact) => {
    const tree = load('dtb', fixture);
    const view = OfTree.of(tree);
    const entries = parsePhandleList(view, view.require(path), 'iommus', '#iommu-cells');
    expect(entries.map((e) => e?.target.path)).toEqual(fact.ids.map(() => fact.iommu));
    expect(entries.map((e) => e?.args[0])).toEqual(fact.ids);
    const device = populate(tree).devices.find((d) => d.path === path);
    if (device !== undefined) expect(device.iommus.map((l) => l.args[0])).toEqual(fact.ids);
  });
});

describe('Calxeda Midway (fixtures/dtb/calxeda-midway.dtb)', () => {
  const devices = byName(populate(load('dtb', 'calxeda-midway.dtb')).devices);

  it('the two XGMACs are dma-coherent platform devices without IOMMU', () => {
    for (const [name, spis] of [
      ['fff50000.ethernet', [0x4d, 0x4e, 0x4f]],
      ['fff51000.ethernet', [0x50, 0x51, 0x52]],
    ] as const) {
      const xgmac = devices.get(name)!;
      expect(xgmac).toMatchObject({
        bus: 'platform',
        compatible: ['calxeda,hb-xgmac'],
        dmaCoherent: true,
        iommus: [],
      });
      expect(xgmac.irqs.map((i) => i.intid)).toEqual(spis.map((n) => n + 32));
    }
  });

  it('the PL330 is AMBA fff3d000.dma, neither coherent nor behind an IOMMU; disabled PL061s are absent', () => {
    expect(devices.get('fff3d000.dma')).toMatchObject({ bus: 'amba', dmaCoherent: false, iommus: [] });
    for (const gpio of ['fff30000.gpio', 'fff31000.gpio', 'fff32000.gpio', 'fff33000.gpio'])
      expect(devices.has(gpio)).toBe(false);
    expect([...devices.values()].filter((d) => d.bus === 'amba')).toHaveLength(5);
  });
});

describe('Foundation v8 GICv3 (fixtures/dtb/foundation-v8-gicv3.dtb)', () => {
  const devices = populate(load('dtb', 'foundation-v8-gicv3.dtb')).devices;

  it('four PL011s are AMBA devices behind the iofpga bus translation', () => {
    expect(devices.filter((d) => d.bus === 'amba').map((d) => d.name)).toEqual([
      '1c090000.serial',
      '1c0a0000.serial',
      '1c0b0000.serial',
      '1c0c0000.serial',
    ]);
  });

  it('no device has iommus, msi-parent, dma-coherent or dmas (MANIFEST)', () => {
    expect(
      devices.filter(
        (d) => d.iommus.length > 0 || d.msiParent !== undefined || d.dmaCoherent || d.dmas.length > 0,
      ),
    ).toEqual([]);
  });

  it('GICv3 PPIs decode to INTID n + 16 (arch timer: PPI 13, 14, 11, 10)', () => {
    expect(devices.find((d) => d.name === 'timer')?.irqs.map((i) => [i.gicType, i.intid])).toEqual([
      ['PPI', 29],
      ['PPI', 30],
      ['PPI', 27],
      ['PPI', 26],
    ]);
  });
});

describe('QEMU virt (fixtures/dtb/qemu-virt-*.dtb)', () => {
  for (const file of ['qemu-virt-gicv2.dtb', 'qemu-virt-gicv3-its-smmuv3.dtb']) {
    it(`${file}: 32 dma-coherent virtio-mmio transports, three AMBA devices, the PCIe host above 4 GiB`, () => {
      const devices = populate(load('dtb', file)).devices;
      const virtio = devices.filter((d) => d.compatible.includes('virtio,mmio'));
      expect(virtio.map((d) => d.name)).toEqual(
        Array.from({ length: 32 }, (_, i) => `${(0xa000000 + i * 0x200).toString(16)}.virtio_mmio`),
      );
      expect(virtio.every((d) => d.dmaCoherent && d.irqs.length === 1)).toBe(true);
      expect(
        devices
          .filter((d) => d.bus === 'amba')
          .map((d) => d.name)
          .sort(),
      ).toEqual(['9000000.pl011', '9010000.pl031', '9030000.pl061']);
      expect(devices.find((d) => d.path === '/pcie@10000000')?.name).toBe('4010000000.pcie');
    });
  }

  it('the SMMUv3 is a platform device; no platform device has iommus (PCIe uses iommu-map)', () => {
    const devices = populate(load('dtb', 'qemu-virt-gicv3-its-smmuv3.dtb')).devices;
    expect(devices.find((d) => d.name === '9050000.smmuv3')).toMatchObject({
      bus: 'platform',
      dmaCoherent: true,
    });
    expect(devices.filter((d) => d.iommus.length > 0)).toEqual([]);
  });
});

describe('corpus sweep (fixtures/corpus/*.dtb, 60 real boards)', () => {
  const files = readdirSync(`${FIXTURES}corpus/`).filter((f) => f.endsWith('.dtb'));

  it('holds the 60 boards of its MANIFEST', () => {
    expect(files).toHaveLength(60);
  });

  it.each(files)('%s: populates without throwing, with kernel invariants', (file) => {
    const tree = load('corpus', file);
    const view = OfTree.of(tree);
    const result = populate(tree);
    expect(result.devices.length).toBeGreaterThan(0);
    // Real trees resolve cleanly.
    expect(result.devices.flatMap((d) => d.issues.map((e) => `${d.name}: ${e.message}`))).toEqual([]);
    for (const bus of ['platform', 'amba'] as const) {
      const names = result.devices.filter((d) => d.bus === bus).map((d) => d.name);
      expect(new Set(names).size).toBe(names.length);
    }
    for (const device of result.devices) {
      const node = view.require(device.path);
      expect(node.available).toBe(true);
      expect(node.has('compatible')).toBe(true);
      if (device.bus === 'amba') {
        expect(node.isCompatible('arm,primecell')).toBe(true);
        expect(device.regions).toHaveLength(1);
        expect(device.irqs.every((i) => i.index < 9)).toBe(true);
      }
      // Platform interrupts are indexes 0..n-1 without gaps.
      if (device.bus === 'platform')
        expect(device.irqs.map((i) => i.index)).toEqual(device.irqs.map((_, i) => i));
    }
  });
});
