import { msiFrameViabilityOf } from '@vfiokit/host';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MSI_BOARD_DEVICES, msiBoardHost, msiViabilityExample } from './msi-viability.js';

const { nic, dma, eth, uart } = MSI_BOARD_DEVICES;

describe('example: seed 004, GICv2m vs ITS MSI verdicts and the opt-in frame viability', () => {
  it('6.12: only the device behind the ITS is isolated; 6.2: every device (system-wide); the Juno PCIe behind GICv2m is not', async () => {
    const outcome = await msiViabilityExample();
    expect(outcome.verdicts.map((v) => [v.device, v.parent, v.isolated])).toEqual([
      [nic, 'msi-controller@2f020000', true],
      [dma, 'v2m@2f300000', false],
      [eth, 'v2m@2f300000', false],
      [uart, null, false],
    ]);
    expect(outcome.verdictsBefore63.every((v) => v.isolated)).toBe(true);
    expect(outcome.juno.map((v) => [v.device, v.parent, v.isolated])).toEqual([
      ['40000000.pcie', 'v2m@0', false],
    ]);
    expect(outcome.viability.map((c) => [c.viable, c.offenders])).toEqual([
      [true, []],
      [false, [eth]],
      [true, []],
      [true, []],
    ]);
  });

  it('viable exactly when the frame’s other VFIO device is in no container or in ours (property)', async () => {
    const host = msiBoardHost();
    await host.fs.run(`echo vfio-platform > /sys/bus/platform/devices/${eth}/driver_override`);
    await host.fs.run(`echo ${eth} > /sys/bus/platform/drivers_probe`);
    fc.assert(
      fc.property(
        fc.constantFrom('vm0', 'vm1', 'vm2'),
        fc.option(fc.constantFrom('vm0', 'vm1', 'vm2')),
        (mine, other) => {
          const verdict = msiFrameViabilityOf(host, dma, mine, other === null ? {} : { [eth]: other });
          expect(verdict.viable).toBe(other === null || other === mine);
          // The ITS device never depends on the frame's devices.
          expect(msiFrameViabilityOf(host, nic, mine, other === null ? {} : { [eth]: other }).viable).toBe(
            true,
          );
        },
      ),
    );
  });
});
