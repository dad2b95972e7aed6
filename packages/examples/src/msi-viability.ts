/**
 * Scenario (seed 004, Eric Auger on kvmarm, 2015: IRQ integrity for MSI passthrough with a
 * GICv2m): which devices' MSIs vfio type1 finds isolated, and vfiokit's opt-in extended
 * viability for devices that share a non-isolating GICv2m frame.
 *
 * Upstream (`msiVerdictOf`): since v6.3 the question is per device
 * (kernel/irq/msi.c msi_device_has_isolated_msi): behind an ITS, isolated (the ITS tags each
 * write with the DeviceID); behind a GICv2m frame, not (any master that can write the frame can
 * raise any of its SPIs); no `msi-parent`, not. Before v6.3 it was system-wide
 * (irq_domain_check_msi_remap): one ITS anywhere made every device "isolated". A device that is
 * not isolated needs `vfio_iommu_type1.allow_unsafe_interrupts=1` (EPERM otherwise; the PL330
 * scenario shows it).
 *
 * NOT IN LINUX (`msiFrameViabilityOf`, opt-in): the seed's proposal — attaching a device behind
 * a GICv2m frame is viable only when every other device behind the same frame is unbound or
 * VFIO-bound, and not in another container (another VM could forge its interrupts).
 *
 * The trees: a board built in code (`src/msi-viability/msi-board.ts`) and, for a real one, the
 * Juno r2 (its PCIe root complex behind GICv2m frame v2m@0).
 */

import { createHost, msiFrameViabilityOf, msiVerdictOf } from '@vfiokit/host';
import { fixtureDtb } from './fixtures.js';
import { MSI_BOARD_DEVICES, msiBoardHost } from './msi-viability/msi-board.js';
import { runIfMain } from './run-if-main.js';

export { MSI_BOARD_DEVICES, msiBoardHost } from './msi-viability/msi-board.js';

/** One device's verdict: its MSI parent (node name), isolated or not, and the rule. */
export interface MsiDeviceVerdict {
  readonly device: string;
  readonly parent: string | null;
  readonly isolated: boolean;
  readonly reason: string;
}

/** One viability question and its answer. */
export interface MsiViabilityCase {
  readonly question: string;
  readonly viable: boolean;
  readonly offenders: readonly string[];
}

/** What {@link msiViabilityExample} saw. */
export interface MsiViabilityOutcome {
  /** The board under the default kernel (6.12). */
  readonly verdicts: readonly MsiDeviceVerdict[];
  /** The same board under 6.2 (system-wide answer). */
  readonly verdictsBefore63: readonly MsiDeviceVerdict[];
  /** The Juno r2's devices with an MSI parent. */
  readonly juno: readonly MsiDeviceVerdict[];
  /** The opt-in frame viability, case by case. */
  readonly viability: readonly MsiViabilityCase[];
}

function verdicts(host: ReturnType<typeof createHost>, names: readonly string[]): MsiDeviceVerdict[] {
  return names.map((device) => {
    const v = msiVerdictOf(host, device);
    return {
      device,
      parent: v.parent === undefined ? null : (v.parent.split('/').at(-1) ?? v.parent),
      isolated: v.isolated,
      reason: v.reason,
    };
  });
}

/** Runs the scenario. */
export async function msiViabilityExample(): Promise<MsiViabilityOutcome> {
  const names = Object.values(MSI_BOARD_DEVICES);
  const board = msiBoardHost();
  const before = msiBoardHost({ profile: { version: [6, 2] } });
  const junoHost = createHost(fixtureDtb('juno-r2'));
  const juno = verdicts(
    junoHost,
    junoHost.dtDevices.filter((d) => msiVerdictOf(junoHost, d).parent !== undefined).map((d) => d.name),
  );

  const { dma, eth, nic } = MSI_BOARD_DEVICES;
  const cases: MsiViabilityCase[] = [];
  const ask = (
    question: string,
    device: string,
    container: string,
    containers: Record<string, string> = {},
  ) => {
    const v = msiFrameViabilityOf(board, device, container, containers);
    cases.push({ question, viable: v.viable, offenders: v.offenders.map((o) => o.device) });
  };
  // The VMM takes the frame's other device first: vfio-platform by driver_override.
  ask(`${dma} → vm0 while ${eth} is unbound`, dma, 'vm0');
  await board.fs.run(`echo vfio-platform > /sys/bus/platform/devices/${eth}/driver_override`);
  await board.fs.run(`echo ${eth} > /sys/bus/platform/drivers_probe`);
  ask(`${dma} → vm0 while ${eth} is in vm1`, dma, 'vm0', { [eth]: 'vm1' });
  ask(`${dma} → vm0 while ${eth} is in vm0`, dma, 'vm0', { [eth]: 'vm0' });
  ask(`${nic} (ITS) → vm0 while ${eth} is in vm1`, nic, 'vm0', { [eth]: 'vm1' });
  return {
    verdicts: verdicts(board, names),
    verdictsBefore63: verdicts(before, names),
    juno,
    viability: cases,
  };
}

/** The outcome as the README shows it. */
export function formatMsiViability(outcome: MsiViabilityOutcome): string {
  const line = (v: MsiDeviceVerdict) =>
    `  ${v.device}: ${v.parent ?? 'no msi-parent'} → ${v.isolated ? 'isolated' : 'NOT isolated'} (${v.reason})`;
  return [
    'msiVerdictOf, Linux 6.12 (per device):',
    ...outcome.verdicts.map(line),
    'msiVerdictOf, Linux 6.2 (system-wide):',
    ...outcome.verdictsBefore63.map(line),
    'Juno r2, devices with an MSI parent:',
    ...outcome.juno.map(line),
    'msiFrameViabilityOf (seed 004, vfiokit opt-in, not in Linux):',
    ...outcome.viability.map(
      (c) => `  ${c.question}: ${c.viable ? 'viable' : `NOT viable (${c.offenders.join(', ')})`}`,
    ),
  ].join('\n');
}

runIfMain(import.meta.url, async () => formatMsiViability(await msiViabilityExample()));
