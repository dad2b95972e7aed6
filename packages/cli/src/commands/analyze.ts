import { isKernelError } from '@vfiokit/core';
import { type DeviceTree, parseFdt } from '@vfiokit/devicetree';
import {
  analyzeHost,
  buildDemoSoc,
  checkHostOptions,
  createHost,
  DEMO_SOC_SOURCE,
  type HostAnalysis,
  type HostOptions,
} from '@vfiokit/host';
import { type Command, Option } from 'commander';
import { formatDot } from '../analyze/format-dot.js';
import { formatHtml } from '../analyze/format-html.js';
import { formatMermaid } from '../analyze/format-mermaid.js';
import { formatTable } from '../analyze/format-table.js';
import { ANALYZE_JSON_SCHEMA } from '../analyze/schema.js';
import { decodeEstimateMs } from '../decode-estimate.js';
import { EXIT_USAGE } from '../exit-status.js';
import { addHostFlags, type HostFlags, hostOptionsOf } from '../host-flags.js';
import { InputError, inputError, oneLine } from '../input-error.js';
import type { Progress } from '../progress.js';

/** What `analyze` needs from the program around it. */
export interface AnalyzeContext {
  readonly readFile: (path: string) => Promise<Uint8Array>;
  readonly stdout: (chunk: string) => void;
  readonly progress: (label: string) => Progress;
  /** Whether standard output is a terminal (colours in `auto` mode). */
  readonly isTTY: boolean;
  /** The environment (`NO_COLOR`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const ANALYZE_FORMATS = ['table', 'json', 'dot', 'mermaid', 'html'] as const;
export type AnalyzeFormat = (typeof ANALYZE_FORMATS)[number];

/** The flags commander hands the action (camelCase of the option names). */
interface AnalyzeFlags extends HostFlags {
  readonly format: AnalyzeFormat;
  readonly reasons?: boolean;
  readonly color: 'auto' | 'always' | 'never';
  readonly schema?: boolean;
}

/** Renders an analysis in one of the formats. */
export function renderAnalysis(
  analysis: HostAnalysis,
  format: AnalyzeFormat,
  table: { readonly color: boolean; readonly reasons: boolean },
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(analysis, null, 2)}\n`;
    case 'dot':
      return formatDot(analysis);
    case 'mermaid':
      return formatMermaid(analysis);
    case 'html':
      return formatHtml(analysis);
    default:
      return formatTable(analysis, table);
  }
}

// https://no-color.org: NO_COLOR present and not empty disables colour.
function useColor(flags: AnalyzeFlags, context: AnalyzeContext): boolean {
  if (flags.color === 'always') return true;
  if (flags.color === 'never') return false;
  const noColor = context.env.NO_COLOR;
  return context.isTTY && (noColor === undefined || noColor === '');
}

/**
 * `vfiokit analyze [FILE]`: boots a host from FILE (the built-in demo SoC without one) with
 * the flags' settings and prints {@link analyzeHost}'s answer. Bad input throws an InputError
 * (one line, status 2).
 */
export async function runAnalyze(
  file: string | undefined,
  flags: AnalyzeFlags,
  given: (name: string) => boolean,
  context: AnalyzeContext,
): Promise<void> {
  if (flags.schema === true) {
    context.stdout(`${JSON.stringify(ANALYZE_JSON_SCHEMA, null, 2)}\n`);
    return;
  }
  let options: HostOptions;
  try {
    options = checkHostOptions(hostOptionsOf(flags, given));
  } catch (error) {
    if (!isKernelError(error)) throw error;
    throw new InputError(oneLine(`analyze: ${error.message}`), EXIT_USAGE, error);
  }
  const label = file ?? DEMO_SOC_SOURCE;
  const progress = context.progress(`vfiokit analyze: ${label}`);
  let analysis: HostAnalysis;
  try {
    let tree: DeviceTree | Uint8Array;
    if (file === undefined) tree = buildDemoSoc();
    else {
      progress.phase(`vfiokit analyze: reading ${file}`);
      try {
        tree = await context.readFile(file);
      } catch (error) {
        throw inputError(file, error);
      }
      // Decoding, booting and analysing are synchronous: warn first if it will be slow.
      progress.before(`vfiokit analyze: analysing ${file}`, decodeEstimateMs(tree) * 3);
    }
    try {
      const parsed = tree instanceof Uint8Array ? parseFdt(tree) : tree;
      analysis = analyzeHost(createHost(parsed, options), { source: label });
    } catch (error) {
      if (isKernelError(error))
        throw new InputError(oneLine(`${label}: ${error.message}`), EXIT_USAGE, error);
      throw inputError(label, error);
    }
  } finally {
    progress.done();
  }
  context.stdout(
    renderAnalysis(analysis, flags.format, {
      color: useColor(flags, context),
      reasons: flags.reasons === true,
    }),
  );
}

/** Adds the `analyze` command to `program`; its action runs {@link runAnalyze}. */
export function addAnalyzeCommand(program: Command, context: AnalyzeContext): Command {
  const command = program
    .command('analyze')
    .summary('what each device of a board can pass through, by which path, and what stands in the way')
    .description(
      'Boot a model Linux host from FILE (a .dtb, /sys/firmware/fdt, QEMU dumpdtb; - for standard ' +
        'input; the built-in demo SoC without FILE) and say for every device whether it can be ' +
        'given to a VM with these settings, by which path (smmu, emulated, noiommu), what it ' +
        'would need, why, and which resources stay with the host.',
    )
    .argument('[FILE]', 'the device-tree blob (default: the built-in demo SoC)')
    .addOption(new Option('--format <format>', 'output format').choices(ANALYZE_FORMATS).default('table'))
    .option('--reasons', 'table: print the reasons under each device')
    .addOption(
      new Option('--color <when>', 'table: colour verdicts (auto: on a terminal without NO_COLOR)')
        .choices(['auto', 'always', 'never'])
        .default('auto'),
    )
    .option('--schema', 'print the JSON Schema of --format json and exit');
  addHostFlags(command);
  command.action(async (file: string | undefined, flags: AnalyzeFlags) =>
    runAnalyze(file, flags, (name) => command.getOptionValueSource(name) === 'cli', context),
  );
  return command;
}
