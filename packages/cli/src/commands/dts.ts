import { parseFdt, toDts } from '@vfiokit/devicetree';
import type { Command } from 'commander';
import { decodeEstimateMs } from '../decode-estimate.js';
import { inputError } from '../input-error.js';
import type { Progress } from '../progress.js';

/** What `dts` needs from the program around it. */
export interface DtsContext {
  readonly readFile: (path: string) => Promise<Uint8Array>;
  readonly stdout: (chunk: Uint8Array) => void;
  readonly progress: (label: string) => Progress;
}

interface DtsFlags {
  readonly labels?: boolean;
}

/**
 * `vfiokit dts FILE [--labels]`: the DTS text of a blob as `dtc -I dtb -O dts` prints it
 * (DTC 1.6.1, byte for byte); `--labels` restores labels from `/__symbols__`, which dtc
 * cannot. Bad input throws an InputError (one line, status 2).
 */
export async function runDts(file: string, flags: DtsFlags, context: DtsContext): Promise<void> {
  const progress = context.progress(`vfiokit dts: ${file}`);
  try {
    progress.phase(`vfiokit dts: reading ${file}`);
    let blob: Uint8Array;
    try {
      blob = await context.readFile(file);
    } catch (error) {
      throw inputError(file, error);
    }
    progress.before(`vfiokit dts: decoding ${file}`, decodeEstimateMs(blob));
    let text: string;
    try {
      text = toDts(parseFdt(blob), { labels: flags.labels === true });
    } catch (error) {
      throw inputError(file, error);
    }
    // toDts prints each byte of a value as one character (0–255), as dtc writes raw bytes:
    // latin1 gives back exactly those bytes, where UTF-8 would expand the high ones.
    context.stdout(Buffer.from(text, 'latin1'));
  } finally {
    progress.done();
  }
}

/** Adds the `dts` command to `program`; its action runs {@link runDts}. */
export function addDtsCommand(program: Command, context: DtsContext): Command {
  return program
    .command('dts')
    .summary('decompile a device-tree blob as dtc -I dtb -O dts prints it')
    .description(
      'Print the DTS text of FILE (a .dtb, /sys/firmware/fdt, QEMU dumpdtb) byte for byte as ' +
        '`dtc -I dtb -O dts` (DTC 1.6.1) prints it.',
    )
    .argument('<FILE>', 'the device-tree blob (- for standard input)')
    .option('--labels', 'restore labels from /__symbols__ and print phandles as &label (dtc cannot)')
    .action(async (file: string, flags: DtsFlags) => runDts(file, flags, context));
}
