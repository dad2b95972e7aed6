import type { KernelVersion } from '@vfiokit/core';
import {
  type DeviceTree,
  type DtDevice,
  type DtMsiController,
  gicVersion,
  msiControllers,
  OfTree,
} from '@vfiokit/devicetree';
import {
  controllerIsolatesMsi,
  GicIts,
  type GicVersion,
  Gicv2mFrame,
  type MsiController,
  type MsiIsolationAnswers,
  type MsiMaster,
  MsiTopology,
  msiIsolated,
} from '@vfiokit/kvm';

/** What the host's GIC lets KVM do (arch/arm64/kvm/vgic/vgic-init.c kvm_vgic_hyp_init). */
export interface HostKvmInfo {
  /**
   * Whether `/dev/kvm` exists. Linux creates it when the CPUs booted at EL2; the tree cannot
   * say that, so vfiokit takes the GIC's maintenance interrupt (the `interrupts` property of
   * the GIC node, gic_kvm_info->maint_irq) as the sign: QEMU virt writes it only with
   * `virtualization=on`, and boards whose firmware enters the kernel at EL2 describe it.
   * A vfiokit inference, not a kernel rule.
   */
  readonly available: boolean;
  /** The host GIC's architecture version, if a GIC driver takes its node. */
  readonly gic: GicVersion | undefined;
  /**
   * The vGIC models KVM can emulate: GICv3 on a GICv3 host; GICv2 on a GICv2 host with its
   * GICH/GICV regions, or on a GICv3 host whose node has a GICV region (vgic-v2.c
   * vgic_v2_probe, vgic-v3.c vgic_v3_probe "no GICV resource entry").
   */
  readonly vgicVersions: readonly GicVersion[];
  /**
   * `kvm_ipa_limit`: the CPU's PARange. Not in the tree: the oracle's QEMU cortex-a57 reports
   * 44 bits ("kvm [1]: IPA Size Limit: 44 bits"), taken for every host.
   */
  readonly ipaLimit: number;
  /** The CPUs the tree describes (`/cpus/cpu@…`): num_online_cpus() for KVM_CAP_NR_VCPUS. */
  readonly cpus: number;
}

/** The IPA limit of the oracle's CPU (QEMU cortex-a57: ID_AA64MMFR0_EL1.PARange = 44 bits). */
export const HOST_KVM_IPA_LIMIT = 44;

// The GIC node the kernel's irqchip driver takes: the first available node with
// `interrupt-controller` that a GIC driver matches (of_irq_init follows the root's parent).
function hostGicNode(tree: DeviceTree): ReturnType<OfTree['find']> {
  return OfTree.of(tree).nodes.find(
    (n) => n.has('interrupt-controller') && n.available && gicVersion(n) !== undefined,
  );
}

// `reg` entries of a node, by (#address-cells + #size-cells) of its parent.
function regCount(node: NonNullable<ReturnType<OfTree['find']>>): number {
  const reg = node.property('reg');
  const parent = node.parent;
  if (reg === undefined || parent === undefined) return 0;
  const cells = (parent.u32('#address-cells') ?? 2) + (parent.u32('#size-cells') ?? 1);
  return cells === 0 ? 0 : Math.floor(reg.value.length / (4 * cells));
}

/** What the host's GIC allows KVM, from the tree. */
export function hostKvmInfo(tree: DeviceTree): HostKvmInfo {
  const node = hostGicNode(tree);
  const gic = node === undefined ? undefined : gicVersion(node);
  const cpuNodes = OfTree.of(tree).find('/cpus')?.children ?? [];
  const cpus = Math.max(1, cpuNodes.filter((n) => n.string('device_type') === 'cpu').length);
  if (node === undefined || gic === undefined)
    return { available: false, gic: undefined, vgicVersions: [], ipaLimit: HOST_KVM_IPA_LIMIT, cpus };
  const maintenance = node.has('interrupts');
  const regs = regCount(node);
  const vgicVersions: GicVersion[] = [];
  if (gic === 3) {
    // reg: GICD, #redistributor-regions GICR regions, then optional GICC, GICH, GICV.
    const redist = node.u32('#redistributor-regions') ?? 1;
    if (regs >= 1 + redist + 3) vgicVersions.push(2);
    vgicVersions.push(3);
  } else if (regs >= 4) {
    // GICv2: GICD, GICC, GICH, GICV — KVM needs the last two.
    vgicVersions.push(2);
  }
  return {
    available: maintenance && vgicVersions.length > 0,
    gic,
    vgicVersions,
    ipaLimit: HOST_KVM_IPA_LIMIT,
    cpus,
  };
}

/** Why a device's MSIs are (not) isolated: what {@link msiVerdictOf} returns. */
export interface MsiVerdict {
  /** The `msi-parent` controller's node path, or undefined when the device has none. */
  readonly parent: string | undefined;
  /** What vfio type1 finds at attach under the host's kernel profile (kvm's `msiIsolated`). */
  readonly isolated: boolean;
  /** One sentence: the rule that decided, with its kernel source. */
  readonly reason: string;
}

/** The host's MSI controllers as `@vfiokit/kvm` models, and which device uses which. */
export interface HostMsiModels {
  readonly topology: MsiTopology;
  readonly controllers: readonly DtMsiController[];
  /** Device name → its `msi-parent` path as written (even when no model stands behind it). */
  readonly parents: ReadonlyMap<string, string>;
  /** vfio's `MsiIsolation`, answered from the models. */
  readonly answers: MsiIsolationAnswers;
}

// A model per probed controller. A v2m frame's SPI range comes from the DT override when the
// node has one; otherwise MSI_TYPER is hardware the tree does not carry, and a one-SPI frame at
// SPI 64 stands in (isolation never depends on the range).
function modelOf(controller: DtMsiController): MsiController | undefined {
  const base = controller.frame === undefined ? 0 : Number(controller.frame.address);
  if (controller.kind === 'gic-v3-its')
    return new GicIts({
      name: controller.path,
      base,
      preIts: controller.compatible.includes('socionext,synquacer-pre-its'),
    });
  if (controller.kind === 'gic-v2m') {
    const spis = controller.spis;
    try {
      return new Gicv2mFrame({
        name: controller.path,
        base,
        typer: (64 << 16) | 1,
        ...(spis === undefined ? {} : { baseSpi: spis.base, numSpis: spis.count }),
      });
    } catch {
      // An out-of-range DT override: gicv2m_init_one refuses the frame (no MSI domain).
      return undefined;
    }
  }
  return undefined;
}

/** Builds the host's MSI models from the tree (probed controllers only, as the drivers do). */
export function hostMsiModels(tree: DeviceTree, devices: readonly DtDevice[]): HostMsiModels {
  const controllers = msiControllers(tree).filter((c) => c.probed);
  const models = new Map<string, MsiController>();
  for (const controller of controllers) {
    const model = modelOf(controller);
    if (model !== undefined) models.set(controller.path, model);
  }
  const masters: Record<string, MsiMaster> = {};
  const parents = new Map<string, string>();
  for (const device of devices) {
    const link = device.msiParent;
    if (link !== undefined) parents.set(device.name, link.target);
    const model = link === undefined ? undefined : models.get(link.target);
    masters[device.name] =
      model === undefined
        ? {}
        : model instanceof GicIts && link?.args[0] !== undefined
          ? { msiParent: link.target, deviceId: link.args[0] }
          : { msiParent: link?.target ?? '' };
  }
  const topology = new MsiTopology({ controllers: [...models.values()], devices: masters });
  return {
    topology,
    controllers,
    parents,
    answers: {
      deviceHasIsolatedMsi: (device) => msiIsolated(topology, device, { kernel: [6, 3] }),
      systemHasIsolatedMsi: () => topology.controllers.some(controllerIsolatesMsi),
    },
  };
}

/**
 * The MSI verdict of one device under a kernel version: its `msi-parent`, whether vfio type1
 * finds its MSIs isolated, and why (kernel/irq/msi.c msi_device_has_isolated_msi from v6.3,
 * irq_domain_check_msi_remap before).
 */
export function msiVerdict(models: HostMsiModels, device: string, kernel: KernelVersion): MsiVerdict {
  const parent = models.parents.get(device);
  const isolated = msiIsolated(models.topology, device, { kernel });
  const perDevice = kernel[0] > 6 || (kernel[0] === 6 && kernel[1] >= 3);
  if (!perDevice) {
    return {
      parent,
      isolated,
      reason: isolated
        ? 'before v6.3 the check is system-wide (irq_domain_check_msi_remap): an ITS on the host isolates every device'
        : 'before v6.3 the check is system-wide (irq_domain_check_msi_remap): no MSI domain of the host remaps',
    };
  }
  if (parent === undefined)
    return {
      parent,
      isolated,
      reason: 'no msi-parent: the device has no MSI domain, msi_device_has_isolated_msi is false on arm64',
    };
  const model = models.topology.controllers.find((c) => c.name === parent);
  if (model === undefined)
    return {
      parent,
      isolated,
      reason: 'the msi-parent is not a GICv2m frame or ITS a driver took: no isolating MSI domain',
    };
  if (model instanceof GicIts)
    return {
      parent,
      isolated,
      reason: model.preIts
        ? 'the parent is a SynQuacer pre-ITS: its doorbell is not DeviceID-checked, no IRQ_DOMAIN_FLAG_ISOLATED_MSI'
        : 'the parent is a GICv3 ITS: it translates by DeviceID (IRQ_DOMAIN_FLAG_ISOLATED_MSI, irq-gic-v3-its.c)',
    };
  return {
    parent,
    isolated,
    reason:
      'the parent is a GICv2m frame: any device can write any of its SPIs, no isolation (irq-gic-v2m.c)',
  };
}
