import type { ResetModuleDefinition } from '../registry/reset-module.js';
import { amdXgbeResetModule } from './amd-xgbe-reset.js';
import { bcmFlexrmResetModule } from './bcm-flexrm-reset.js';
import { calxedaXgmacResetModule } from './calxeda-xgmac-reset.js';
import { pl330ResetModule } from './pl330-reset.js';

/**
 * The modules this package ships, one per compatible: the three upstream ones (Calxeda xgmac,
 * AMD xgbe, Broadcom FlexRM) with the kernel's exact sequences and v6.18 deprecation texts, and
 * vfiokit's PL330 module (loadable only in registry mode `vfiokit`). Hand them to
 * {@link modprobe} to have the registry load them on demand.
 */
export const builtinResetModules: readonly ResetModuleDefinition[] = [
  calxedaXgmacResetModule,
  amdXgbeResetModule,
  bcmFlexrmResetModule,
  pl330ResetModule,
];
