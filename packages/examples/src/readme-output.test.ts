import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { customResetModuleReport } from './custom-reset-module.js';
import { formatI2cRebind, i2cRebindExample } from './i2c-rebind.js';
import { levelIrqReport } from './level-irq-resamplefd.js';
import { formatMsiViability, msiViabilityExample } from './msi-viability.js';
import { formatPl330Smmu, pl330SmmuExample } from './pl330-smmu.js';
import { formatUartEmulatedIommu, uartEmulatedIommuExample } from './uart-emulated-iommu.js';
import { formatXgmacGuestNode, xgmacGuestNodeExample } from './xgmac-guest-node.js';

// The README shows each scenario's real printed output; these runs keep it true.
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The ```text block after "Output of `npx tsx packages/examples/src/<file>`:". */
function shownOutput(file: string): string | undefined {
  const marker = `Output of \`npx tsx packages/examples/src/${file}\`:\n\n\`\`\`text\n`;
  const start = README.indexOf(marker);
  if (start < 0) return undefined;
  const body = README.slice(start + marker.length);
  return body.slice(0, body.indexOf('\n```'));
}

const SCENARIOS: readonly (readonly [string, () => Promise<string> | string])[] = [
  ['i2c-rebind.ts', async () => formatI2cRebind(await i2cRebindExample())],
  ['pl330-smmu.ts', async () => formatPl330Smmu(pl330SmmuExample())],
  ['xgmac-guest-node.ts', async () => formatXgmacGuestNode(await xgmacGuestNodeExample())],
  ['level-irq-resamplefd.ts', levelIrqReport],
  ['msi-viability.ts', async () => formatMsiViability(await msiViabilityExample())],
  ['custom-reset-module.ts', customResetModuleReport],
  ['uart-emulated-iommu.ts', async () => formatUartEmulatedIommu(await uartEmulatedIommuExample())],
];

describe('README: each scenario’s output block is what the scenario prints', () => {
  it.each(SCENARIOS)('%s', async (file, run) => {
    expect(shownOutput(file)).toBe(await run());
  });

  it('a changed output is caught: the check compares the whole block', () => {
    expect(shownOutput('i2c-rebind.ts')).toBeDefined();
    expect(shownOutput('i2c-rebind.ts')).not.toBe('12ce0000.i2c at boot: s3c-i2c');
    expect(shownOutput('no-such-scenario.ts')).toBeUndefined();
  });
});
