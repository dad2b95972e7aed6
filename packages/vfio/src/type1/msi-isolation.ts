/**
 * Whether MSIs of a device are isolated (an interrupt-remapping MSI parent such as a GICv3 ITS
 * that checks DeviceIDs). Injected: `@vfiokit/host` answers it from `@vfiokit/kvm`'s MSI
 * controllers. kernel/irq/msi.c msi_device_has_isolated_msi (v6.3+) and, for older kernel
 * profiles, the system-wide irq_domain_check_msi_remap.
 */
export interface MsiIsolation {
  /** `msi_device_has_isolated_msi(dev)`: the device's MSI domain chain isolates. */
  deviceHasIsolatedMsi(device: string): boolean;
  /** `irq_domain_check_msi_remap()`: any MSI domain in the system remaps (pre-v6.3 check). */
  systemHasIsolatedMsi(): boolean;
  /**
   * NOT IN LINUX — seed 004's extended viability, an opt-in policy: called when a group's
   * `devices` attach to the container whose type1 state is `container`, after the kernel's own
   * MSI check passed; throws a `KernelError` (`EPERM`) to refuse the attach. Absent: Linux.
   */
  checkAttach?(devices: readonly string[], container: object): void;
}

/**
 * The default: no device has an isolating MSI parent. A DT platform device without
 * `msi-parent` has no MSI domain, so v6.3+ reports it not isolated (kernel-semantics §10).
 */
export const NO_ISOLATED_MSI: MsiIsolation = Object.freeze({
  deviceHasIsolatedMsi: (): boolean => false,
  systemHasIsolatedMsi: (): boolean => false,
});
