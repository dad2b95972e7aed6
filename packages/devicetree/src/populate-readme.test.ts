// The README example of the kernel-semantics section, run as written (through the package name).
import { readFileSync } from 'node:fs';
import {
  msiControllers,
  OfTree,
  parseFdt,
  parseIrqs,
  populate,
  regEntries,
  translateAddress,
} from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from './test-support/fixtures.js';

const JUNO = `${FIXTURES_DIR}dtb/juno-r2.dtb`;

describe('README: kernel semantics and population', () => {
  it('runs the example', () => {
    const tree = parseFdt(readFileSync(JUNO));

    const { devices, skipped } = populate(tree);
    const pl330 = devices.find((d) => d.name === '7ff00000.dma-controller')!;
    expect([pl330.bus, pl330.path]).toEqual(['amba', '/dma-controller@7ff00000']);
    expect(pl330.regions[0]).toEqual({ index: 0, address: 0x7ff00000n, size: 0x1000n, name: undefined });
    expect(pl330.iommus.map((l) => `${l.target}:${l.args}`)).toHaveLength(9);
    expect(pl330.irqs[0]).toMatchObject({
      controller: '/interrupt-controller@2c010000',
      gicType: 'SPI',
      intid: 120,
      trigger: 'level-high',
    });
    expect(skipped).toEqual([]);

    const msi = msiControllers(tree);
    expect([msi.length, msi[0]?.kind, msi[0]?.doorbell?.toString(16)]).toEqual([4, 'gic-v2m', '2c1c0040']);
    expect(devices.find((d) => d.path === '/pcie@40000000')?.msiParent?.target).toBe(
      '/interrupt-controller@2c010000/v2m@0',
    );

    const of = OfTree.of(tree);
    const uart = of.require('serial0');
    const [reg] = regEntries(uart);
    expect([uart.path, translateAddress(uart, reg!.cells)]).toEqual(['/serial@7ff80000', 0x7ff80000n]);
    expect(parseIrqs(of, uart).map((irq) => `${irq.controller.path} <${irq.args.join(' ')}>`)).toEqual([
      '/interrupt-controller@2c010000 <0 83 4>',
    ]);
  });
});
