import type { ResetModuleDefinition } from '../registry/reset-module.js';
import { amdXgbeResetModule } from './amd-xgbe-reset.js';
import { calxedaXgmacResetModule } from './calxeda-xgmac-reset.js';
import { pl330ResetModule } from './pl330-reset.js';

/**
 * The modules this package ships, one per compatible: the two upstream ones (Calxeda xgmac,
 * AMD xgbe) with the kernel's exact sequences, and vfiokit's PL330 module. Hand them to
 * {@link modprobe} to have the registry load them on demand.
 */
export const builtinResetModules: readonly ResetModuleDefinition[] = [
  calxedaXgmacResetModule,
  amdXgbeResetModule,
  pl330ResetModule,
];
