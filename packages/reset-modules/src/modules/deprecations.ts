import type { ResetDeprecation } from '../registry/reset-module.js';

// The v6.18 texts, from "[PATCH v2 0/2] vfio/platform: Deprecate vfio-amba and reset drivers"
// (Alex Williamson, 25 Aug 2025; merged in the VFIO pull for v6.18-rc1). Each upstream reset
// function begins with `dev_err_once(vdev->device, "<message>\n")`, so the text is printed once
// per module load, the first time the reset runs, prefixed with the device's name; each Kconfig
// prompt gained "(DEPRECATED)". vfio-amba's own notice (printed at probe) belongs to the vfio
// drivers, not to a reset module.

/** drivers/vfio/platform/reset/vfio_platform_calxedaxgmac.c since v6.18. */
export const CALXEDA_XGMAC_DEPRECATION: ResetDeprecation = {
  since: 'v6.18',
  message:
    'DEPRECATION: VFIO Calxeda xgmac platform reset is deprecated and will be removed in a future kernel release',
  kconfig: 'VFIO_PLATFORM_CALXEDAXGMAC_RESET',
};

/** drivers/vfio/platform/reset/vfio_platform_amdxgbe.c since v6.18. */
export const AMD_XGBE_DEPRECATION: ResetDeprecation = {
  since: 'v6.18',
  message:
    'DEPRECATION: VFIO AMD XGBE platform reset is deprecated and will be removed in a future kernel release',
  kconfig: 'VFIO_PLATFORM_AMDXGBE_RESET',
};

/** drivers/vfio/platform/reset/vfio_platform_bcmflexrm.c since v6.18. */
export const BCM_FLEXRM_DEPRECATION: ResetDeprecation = {
  since: 'v6.18',
  message:
    'DEPRECATION: VFIO Broadcom FlexRM platform reset is deprecated and will be removed in a future kernel release',
  kconfig: 'VFIO_PLATFORM_BCMFLEXRM_RESET',
};
