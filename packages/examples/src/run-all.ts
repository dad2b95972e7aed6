/**
 * Every scenario in the README's order, each with the text its file prints. Run as a program
 * (`npx tsx packages/examples/src/run-all.ts`) it runs them all in one process, each under a
 * header, and fails (exit code 1) on the first scenario that throws.
 */

import { customResetModuleReport } from './custom-reset-module.js';
import { formatI2cRebind, i2cRebindExample } from './i2c-rebind.js';
import { levelIrqReport } from './level-irq-resamplefd.js';
import { formatMsiViability, msiViabilityExample } from './msi-viability.js';
import { formatPl330Smmu, pl330SmmuExample } from './pl330-smmu.js';
import { runIfMain } from './run-if-main.js';
import { formatUartEmulatedIommu, uartEmulatedIommuExample } from './uart-emulated-iommu.js';
import { formatXgmacGuestNode, xgmacGuestNodeExample } from './xgmac-guest-node.js';

/** One scenario: its file under packages/examples/src and what running it prints. */
export interface ExampleScenario {
  readonly file: string;
  readonly report: () => Promise<string> | string;
}

export const EXAMPLE_SCENARIOS: readonly ExampleScenario[] = [
  { file: 'i2c-rebind.ts', report: async () => formatI2cRebind(await i2cRebindExample()) },
  {
    file: 'uart-emulated-iommu.ts',
    report: async () => formatUartEmulatedIommu(await uartEmulatedIommuExample()),
  },
  { file: 'pl330-smmu.ts', report: () => formatPl330Smmu(pl330SmmuExample()) },
  { file: 'xgmac-guest-node.ts', report: async () => formatXgmacGuestNode(await xgmacGuestNodeExample()) },
  { file: 'level-irq-resamplefd.ts', report: levelIrqReport },
  { file: 'msi-viability.ts', report: async () => formatMsiViability(await msiViabilityExample()) },
  { file: 'custom-reset-module.ts', report: customResetModuleReport },
];

/** Runs every scenario in order; the text of all, each under `== <file> ==`. */
export async function runAllExamples(): Promise<string> {
  const parts: string[] = [];
  for (const scenario of EXAMPLE_SCENARIOS) parts.push(`== ${scenario.file} ==\n${await scenario.report()}`);
  return parts.join('\n\n');
}

runIfMain(import.meta.url, runAllExamples);
