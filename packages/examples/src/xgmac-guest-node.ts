/**
 * Scenario: a Calxeda xgmac — the device QEMU's vfio-platform support was written for
 * (hw/vfio/calxeda-xgmac.c, hw/core/sysbus-fdt.c add_calxeda_midway_xgmac_fdt_node) — from the
 * Calxeda Midway tree (`../shared/fixtures/dtb/calxeda-midway.dtb`), assigned to a QEMU guest
 * with `assignDevice` and its guest node printed as DTS, then handed back with `releaseDevice`.
 *
 * Honestly: Midway has no IOMMU in front of its xgmacs, so the host runs vfio in no-IOMMU mode
 * (`enable_unsafe_noiommu_mode`, which taints); the oracle's kernel has no xgmac host driver, so
 * the unbind step has nothing to do; and the hosts built from the fixtures have no register
 * model behind an xgmac, so the Calxeda reset module's ioremap would fail — `reset_required=0`
 * lets the device open without its reset (see packages/vmm/README.md, "Assign and release").
 */

import { createHost } from '@vfiokit/host';
import { type Assignment, assignDevice, GuestVm, releaseDevice } from '@vfiokit/vmm';
import { fixtureDtb } from './fixtures.js';
import { runIfMain } from './run-if-main.js';

export const XGMAC_DEVICE = 'fff51000.ethernet';

/** What {@link xgmacGuestNodeExample} saw. */
export interface XgmacGuestNodeOutcome {
  readonly device: string;
  /** Each step of the assignment with its detail (`driver_override: echo vfio-platform > …`). */
  readonly steps: readonly string[];
  readonly group: string;
  readonly iommuType: Assignment['iommuType'];
  /** Region sizes: the host node's and the guest node's (equal). */
  readonly hostRegions: readonly {
    readonly address: bigint;
    readonly size: bigint;
    readonly guest: bigint;
  }[];
  /** Interrupts: host SPI → guest SPI, trigger, and whether VFIO automasks it (level). */
  readonly irqs: readonly {
    readonly hostSpi: number | undefined;
    readonly guestSpi: number;
    readonly trigger: string;
    readonly automasked: boolean;
  }[];
  /** The QEMU guest tree with the platform bus and the xgmac node, as DTS. */
  readonly guestDts: string;
  /** The same tree as a DTB (what QEMU hands the guest). */
  readonly guestDtb: Uint8Array;
  readonly tainted: number;
  /** After releaseDevice: the device's driver and the driver_override file. */
  readonly afterRelease: { readonly driver: string | null; readonly override: string };
}

/** Runs the scenario: assign to a QEMU VM, print the guest node, release. */
export async function xgmacGuestNodeExample(): Promise<XgmacGuestNodeOutcome> {
  const host = createHost(fixtureDtb('calxeda-midway'), {
    enable_unsafe_noiommu_mode: true,
    reset_required: false,
  });
  const vm = GuestVm.create(host, { vmm: 'qemu' });
  const assignment = await assignDevice(host, vm, XGMAC_DEVICE);
  const { view } = assignment;
  const tainted = host.tainted;
  await releaseDevice(assignment);
  return {
    device: XGMAC_DEVICE,
    steps: assignment.steps.map((s) => `${s.step}: ${s.detail}`),
    group: assignment.group,
    iommuType: assignment.iommuType,
    hostRegions: view.regions.map((r) => ({ address: r.hostAddress, size: r.size, guest: r.guestAddress })),
    irqs: view.irqs.map((i) => ({
      hostSpi: i.hostSpi,
      guestSpi: i.guestSpi,
      trigger: i.trigger,
      automasked: i.automasked,
    })),
    guestDts: assignment.guest.dts,
    guestDtb: assignment.guest.dtb,
    tainted,
    afterRelease: {
      driver: host.device(XGMAC_DEVICE)?.driverName ?? null,
      override: host.fs.read(`/sys/bus/platform/devices/${XGMAC_DEVICE}/driver_override`).trimEnd(),
    },
  };
}

/** The outcome as the README shows it. */
export function formatXgmacGuestNode(outcome: XgmacGuestNodeOutcome): string {
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  return [
    `${outcome.device} → QEMU guest (group ${outcome.group}, ${outcome.iommuType}; tainted ${outcome.tainted})`,
    ...outcome.steps.map((s) => `  ${s}`),
    ...outcome.hostRegions.map(
      (r) => `region: host ${hex(r.address)}+${hex(r.size)} → guest ${hex(r.guest)}+${hex(r.size)}`,
    ),
    ...outcome.irqs.map(
      (i) =>
        `irq: host SPI ${i.hostSpi ?? '-'} ${i.trigger}${i.automasked ? ' (automasked)' : ''} → guest SPI ${i.guestSpi}`,
    ),
    'guest device tree:',
    outcome.guestDts.trimEnd(),
    `after releaseDevice: driver ${outcome.afterRelease.driver ?? 'none'}, driver_override ${outcome.afterRelease.override}`,
  ].join('\n');
}

runIfMain(import.meta.url, async () => formatXgmacGuestNode(await xgmacGuestNodeExample()));
