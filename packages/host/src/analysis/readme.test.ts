// The README's analysis example, verbatim apart from the assertions.
import { describe, expect, it } from 'vitest';
import { analyzeHost, buildDemoSoc, createHost } from '../index.js';

describe('README: analysis', () => {
  it('the PL330 is assignable with allow_unsafe_interrupts=1; the sensor needs three things', () => {
    const host = createHost(buildDemoSoc(), { cmdline: 'vfio_iommu_type1.allow_unsafe_interrupts=1' });
    const analysis = analyzeHost(host, { source: 'demo' });
    const pl330 = analysis.devices.find((d) => d.name === '7ff00000.dma-controller');
    const sensor = analysis.devices.find((d) => d.name === '10060000.sensor');

    expect(pl330).toMatchObject({
      bus: 'amba',
      path: 'smmu',
      assignable: true,
      iommu: { node: '/soc/iommu@2b400000', streamIds: [0], group: 2 },
    });
    expect(sensor?.requires).toEqual([
      'dma_override=device:10060000.sensor:non-master',
      'emulated_generic=1',
      'reset_required=0 or a reset module for vfiokit,demo-sensor',
    ]);
  });
});
