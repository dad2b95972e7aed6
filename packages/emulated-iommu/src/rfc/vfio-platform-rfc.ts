import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import {
  type DmaCapabilityPolicy,
  type VfioMetaDriverOptions,
  type VfioPlatformDriverOptions,
  vfioAmbaDriver,
  vfioPlatformDriver,
} from '@vfiokit/vfio';
import type { BusDevice, BusDriverSpec } from '../driver-kit/types.js';

/**
 * **A proposal, not in Linux.** The September 2024 RFC "Simple device assignment with VFIO
 * platform" (Mostafa Saleh, Message-ID CAFgf54rCCWjHLsLUxrMspNHaKAa1o8n3Md2_ZNGVtj0cU_dOPg
 * @mail.gmail.com) asked vfio-platform to accept a device without an IOMMU group when the
 * platform says it cannot do DMA (`platform_dma_capable()`), registering it with
 * `vfio_register_emulated_iommu_dev()`. It was answered, not merged. vfiokit's DMA-capability
 * policy plays `platform_dma_capable()`.
 */
export interface VfioPlatformRfcOptions extends VfioPlatformDriverOptions {
  /** The policy that plays `platform_dma_capable()` (required: the RFC is nothing without it). */
  readonly dmaPolicy: DmaCapabilityPolicy;
  /** The driver's name (default `vfio-platform-rfc`, so that upstream vfio-platform stays). */
  readonly name?: string;
}

/** Options of the AMBA flavour (vfio-amba shares vfio_platform_common.c, where the RFC's change lands). */
export interface VfioAmbaRfcOptions extends VfioMetaDriverOptions {
  readonly dmaPolicy: DmaCapabilityPolicy;
  /** The driver's name (default `vfio-amba-rfc`). */
  readonly name?: string;
}

const META_KEYS = ['vfio', 'resets', 'irqChip', 'iommuGroupOf', 'mmio', 'dmaPolicy', 'delay', 'log'] as const;

/**
 * The RFC's vfio-platform (opt-in, **not in Linux**): the same driver and common core as
 * upstream vfio-platform, except that a device without an IOMMU group is
 *
 * - registered in an emulated-IOMMU group when the policy says `non-master` (no taint, no
 *   `enable_unsafe_noiommu_mode` needed);
 * - refused when it says `unknown` or `master`, with `EINVAL` — the errno the RFC describes
 *   upstream giving today ("VFIO platform will deny a device from probing (through
 *   vfio_group_find_or_alloc())": group.c returns -EINVAL) — and the policy's one-line reason
 *   in the message and the kernel log.
 *
 * Devices with an IOMMU group take the upstream path unchanged; with the no-IOMMU mode on, a
 * device the policy does not clear takes the upstream no-IOMMU path (and taints), since the
 * RFC adds a path rather than removing one.
 */
export function vfioPlatformRfcDriver(options: VfioPlatformRfcOptions): BusDriverSpec {
  rejectUnknownOptions(options, [...META_KEYS, 'resetRequired', 'name'], 'vfioPlatformRfcDriver');
  const { name = 'vfio-platform-rfc', ...upstream } = options;
  return rfcVariant(name, vfioPlatformDriver(upstream), options);
}

/** The RFC's change on vfio-amba (opt-in, **not in Linux**); see {@link vfioPlatformRfcDriver}. */
export function vfioAmbaRfcDriver(options: VfioAmbaRfcOptions): BusDriverSpec {
  rejectUnknownOptions(options, [...META_KEYS, 'name'], 'vfioAmbaRfcDriver');
  const { name = 'vfio-amba-rfc', ...upstream } = options;
  return rfcVariant(name, vfioAmbaDriver(upstream), options);
}

function rfcVariant(name: string, upstream: BusDriverSpec, options: VfioMetaDriverOptions): BusDriverSpec {
  const policy = options.dmaPolicy;
  if (policy === undefined || typeof policy.assess !== 'function')
    throw new KernelError('EINVAL', `${name}: a dmaPolicy (platform_dma_capable) is required`);
  return {
    ...upstream,
    name,
    probe(device, match) {
      refuseUnlessCleared(name, device, policy, options);
      return upstream.probe(device, match);
    },
  };
}

// The RFC's platform_dma_capable() check, before vfio_group_find_or_alloc would refuse.
function refuseUnlessCleared(
  name: string,
  device: BusDevice,
  policy: DmaCapabilityPolicy,
  options: VfioMetaDriverOptions,
): void {
  if (options.iommuGroupOf(device) !== undefined) return;
  const verdict = policy.assess(device);
  if (verdict.cannotDma) return;
  if (options.vfio.params.enableUnsafeNoiommuMode) return;
  const kind = (verdict as { readonly verdict?: string }).verdict ?? 'not non-master';
  const line = `${name} ${device.name}: no IOMMU group and DMA not ruled out (${kind}): ${verdict.reason}`;
  options.log?.(line);
  throw new KernelError('EINVAL', line);
}
