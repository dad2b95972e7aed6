// `vfiokit assign FILE DEVICE` and `vfiokit release FILE DEVICE`: boot a model host from FILE,
// start a VM as the chosen VMM would, run @vfiokit/vmm's assignDevice and print every step
// with what the kernel answered, then the guest's device-tree fragment. The CLI keeps no
// state between runs, so `release` assigns and then releases in the same run and prints both
// (the hand-back: irqfds, eventfds, mappings and fds undone, the host driver bound again).
// A refused assignment exits with ASSIGN_EXIT_REFUSED and one line naming the step and errno.
import { checkHostOptions, createHost } from '@vfiokit/host';
import { AssignError, assignDevice, GuestVm, releaseDevice, type VmmKind } from '@vfiokit/vmm';
import { type Command, Option } from 'commander';
import { addHostFlags, boolArg, type HostFlags, hostOptionsOf } from '../host-flags.js';
import { InputError, inputError, oneLine } from '../input-error.js';
import type { Progress } from '../progress.js';

/** Exit status of a refused assignment (2 stays bad input/usage, 1 an internal error). */
export const ASSIGN_EXIT_REFUSED = 3;

export const ASSIGN_VMMS = ['qemu', 'crosvm', 'xen'] as const;

/** `--backend`: the VFIO container (type1v2 / no-IOMMU) or iommufd (/dev/iommu + the device cdev). */
export const ASSIGN_BACKENDS = ['legacy', 'iommufd'] as const;

/** What `assign`/`release` need from the program around them. */
export interface AssignContext {
  readonly readFile: (path: string) => Promise<Uint8Array>;
  readonly stdout: (chunk: string | Uint8Array) => void;
  readonly progress: (label: string) => Progress;
}

interface AssignFlags extends HostFlags {
  readonly vmm: VmmKind;
  readonly backend: (typeof ASSIGN_BACKENDS)[number];
  readonly json?: boolean;
  readonly driver?: string;
  readonly kvm?: boolean;
}

/** Runs `assign` (and, with `release`, the release after it). */
export async function runAssign(
  file: string,
  device: string,
  flags: AssignFlags,
  context: AssignContext,
  release: boolean,
  given: (name: string) => boolean = () => false,
): Promise<void> {
  const progress = context.progress(`vfiokit ${release ? 'release' : 'assign'}: ${file}`);
  try {
    let blob: Uint8Array;
    try {
      blob = await context.readFile(file);
    } catch (error) {
      throw inputError(file, error);
    }
    let host: ReturnType<typeof createHost>;
    try {
      host = createHost(blob, checkHostOptions(hostOptionsOf(flags, given)));
    } catch (error) {
      throw inputError(file, error);
    }
    let vm: GuestVm;
    try {
      vm = GuestVm.create(host, { vmm: flags.vmm, ...(flags.kvm === undefined ? {} : { kvm: flags.kvm }) });
    } catch (error) {
      if (isKernelErrorLike(error))
        throw new InputError(oneLine(`${file}: ${error.message}`), ASSIGN_EXIT_REFUSED, error);
      throw error;
    }
    const hostDriver = host.device(device)?.driverName ?? null;
    try {
      progress.phase(`vfiokit assign: ${device}`);
      const a = await assignDevice(host, vm, device, {
        backend: flags.backend,
        ...(flags.driver === undefined ? {} : { driver: flags.driver }),
      });
      let releasedTo: string | null | undefined;
      if (release) {
        await releaseDevice(a);
        releasedTo = host.device(device)?.driverName ?? null;
      }
      if (flags.json === true) {
        context.stdout(
          `${JSON.stringify(
            {
              ok: true,
              device,
              vmm: flags.vmm,
              backend: a.backend,
              driver: a.driver,
              hostDriver,
              group: a.group,
              iommu: a.iommuType,
              ...(a.iommufd === undefined ? {} : { iommufd: a.iommufd }),
              kvm: vm.kvm !== undefined,
              steps: a.steps,
              guest: { dts: a.guest.dts },
              ...(release ? { released: true, driverAfterRelease: releasedTo } : {}),
            },
            null,
            2,
          )}\n`,
        );
      } else {
        const lines = a.steps.map((s, i) => `${String(i + 1).padStart(2)}. ${s.step.padEnd(16)} ${s.detail}`);
        if (release)
          lines.push(
            `released: ${device} is with ${releasedTo ?? 'no driver'} again (was ${hostDriver ?? 'no driver'})`,
          );
        context.stdout(`${lines.join('\n')}\n\n${a.guest.dts}`);
      }
    } catch (error) {
      if (!(error instanceof AssignError)) throw error;
      if (flags.json === true)
        context.stdout(
          `${JSON.stringify(
            {
              ok: false,
              device,
              vmm: flags.vmm,
              backend: flags.backend,
              step: error.step,
              errno: error.code,
              message: error.message,
            },
            null,
            2,
          )}\n`,
        );
      throw new InputError(oneLine(error.message), ASSIGN_EXIT_REFUSED, error);
    }
  } finally {
    progress.done();
  }
}

function isKernelErrorLike(e: unknown): e is Error & { code: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

function addOne(program: Command, name: 'assign' | 'release', context: AssignContext): Command {
  const command = program
    .command(name)
    .summary(
      name === 'assign'
        ? 'assign a device to a model VM as QEMU, crosvm or Xen would, printing every step and the guest node'
        : 'assign a device, then hand it back to its host driver, printing both',
    )
    .description(
      name === 'assign'
        ? 'Boot a model Linux host from FILE, start a VM as VMM does (guest RAM, KVM with irqfd when the ' +
            'tree allows it), and assign DEVICE (its sysfs name, e.g. 7ff00000.dma-controller): driver_override, ' +
            'unbind, bind, container and group (or with --backend iommufd: /dev/iommu, the device cdev, BIND, ' +
            'IOAS), IOMMU type, DMA map, regions, IRQs, the guest device-tree ' +
            `node. Exits ${ASSIGN_EXIT_REFUSED} with the step and errno when the kernel or the VMM refuses.`
        : 'As assign, then release DEVICE in the same run (the CLI keeps no state): irqfds, eventfds, ' +
            'mappings and fds undone, the device reset on close and bound to its host driver again.',
    )
    .argument('<FILE>', 'the device-tree blob (- for standard input)')
    .argument('<DEVICE>', 'the device name as in /sys/bus/*/devices')
    .addOption(
      new Option('--vmm <vmm>', 'the VMM whose layout and guest tree to use')
        .choices(ASSIGN_VMMS)
        .default('qemu'),
    )
    .addOption(
      new Option(
        '--backend <backend>',
        'legacy: /dev/vfio/vfio container + group (type1v2 or no-IOMMU); iommufd: /dev/iommu + /dev/vfio/devices/vfioN',
      )
        .choices(ASSIGN_BACKENDS)
        .default('legacy'),
    )
    .option('--json', 'print the steps and the guest DTS as JSON')
    .option(
      '--driver <name>',
      'the VFIO driver to bind (default vfio-amba / vfio-platform; vfio-pl011… load the emulated-IOMMU module)',
    )
    .option(
      '--kvm <bool>',
      'use KVM irqfd/resamplefd (default: when the tree has a GIC maintenance interrupt)',
      boolArg,
    );
  addHostFlags(command);
  command.action(async (file: string, device: string, flags: AssignFlags) =>
    runAssign(
      file,
      device,
      flags,
      context,
      name === 'release',
      (option) => command.getOptionValueSource(option) === 'cli',
    ),
  );
  return command;
}

/** Adds `assign` and `release` to `program`; returns both commands. */
export function addAssignCommands(program: Command, context: AssignContext): Command[] {
  return [addOne(program, 'assign', context), addOne(program, 'release', context)];
}
