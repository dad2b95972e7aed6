/**
 * A reset module's deprecation as Linux states it: since v6.18 ("vfio/platform: Deprecate
 * vfio-amba and reset drivers", merged for v6.18-rc1) each upstream module's reset function
 * starts with `dev_err_once(vdev->device, "DEPRECATION: ...")`, printed the first time the
 * reset runs after the module is loaded, and its Kconfig prompt ends in "(DEPRECATED)".
 */
export interface ResetDeprecation {
  /** The first kernel release that prints it. */
  readonly since: 'v6.18';
  /** The `dev_err_once` text, without the trailing newline. */
  readonly message: string;
  /** The Kconfig symbol whose prompt says "(DEPRECATED)". */
  readonly kconfig: string;
}
