/**
 * Device population as Linux does it at boot: drivers/of/platform.c (v6.x)
 * of_platform_default_populate_init() and what it calls (see populate-run.ts).
 */
import { rejectUnknownOptions } from '@vfiokit/core';
import { irqchipInitOrder } from './of-irq-init.js';
import { ofKernel } from './of-kernel.js';
import { OfTree } from './of-tree.js';
import { Populator } from './populate-run.js';
import {
  DEFAULT_EARLY_CLOCKS,
  DEFAULT_EARLY_IRQCHIPS,
  OF_DEFAULT_BUS_MATCH_TABLE,
  RESERVED_MEM_MATCHES,
} from './populate-tables.js';
import type { DtDevice, PopulateOptions, PopulateResult } from './populate-types.js';
import type { DeviceTree, DtNode } from './tree.js';

/**
 * The devices Linux creates from a device tree at boot, in creation order, with the nodes
 * it tried and failed on. Nodes set up before population by of_irq_init() and
 * of_clk_init() get no device (see {@link PopulateOptions.earlyInit}). Then
 * drivers/of/platform.c: of_platform_default_populate_init():
 * first nodes compatible with one of reserved_mem_matches (`phram`, `qcom,rmtfs-mem`,
 * `qcom,cmd-db`, `qcom,smem`, `ramoops`, `nvmem-rmem`, `google,open-dice`) anywhere in the
 * tree, then the children of `/firmware` (without recursing), then the first
 * `simple-framebuffer` child of `/chosen`, then of_platform_default_populate() from the root: every child of the root with a
 * `compatible`, recursing into nodes compatible with a bus of `busCompatibles`; nodes
 * compatible with `arm,primecell` become AMBA devices (their children are never
 * populated); unavailable nodes (`status` other than `okay`/`ok`) are skipped with their
 * subtree.
 *
 * Devices that drivers create later (children of I2C/SPI controllers, of `simple-pm-bus`,
 * of PCI hosts, …) are not included: they depend on which drivers probe.
 */
export function populate(tree: DeviceTree | DtNode, options: PopulateOptions = {}): PopulateResult {
  rejectUnknownOptions(options, ['busCompatibles', 'amba', 'earlyInit', 'kernel'], 'populate');
  rejectUnknownOptions(options.earlyInit, ['irqchips', 'clocks'], 'populate: earlyInit');
  const kernel = ofKernel(options.kernel, 'populate');
  const view = OfTree.of(tree);
  const amba = options.amba ?? true;
  const matches =
    options.busCompatibles ?? OF_DEFAULT_BUS_MATCH_TABLE.filter((c) => amba || c !== 'arm,amba-bus');
  const populator = new Populator(view, amba, kernel);
  const irqchips = options.earlyInit?.irqchips ?? DEFAULT_EARLY_IRQCHIPS;
  const clocks = options.earlyInit?.clocks ?? DEFAULT_EARLY_CLOCKS;
  // drivers/of/irq.c: of_irq_init() sets OF_POPULATED on each controller it initialises.
  for (const node of irqchipInitOrder(view, irqchips)) populator.markPopulated(node);
  for (const node of view.nodes) {
    // drivers/clk/clk.c: of_clk_init() does too ("Don't populate platform devices").
    if (node.available && clocks.some((c) => node.isCompatible(c))) populator.markPopulated(node);
  }
  for (const node of view.nodes) {
    if (RESERVED_MEM_MATCHES.some((c) => node.isCompatible(c))) populator.createPlatformDevice(node);
  }
  const firmware = view.find('/firmware');
  if (firmware !== undefined) populator.populate(firmware, null);
  // of_get_compatible_child(of_chosen, "simple-framebuffer"): the boot framebuffer.
  const chosen = view.find('/chosen') ?? view.find('/chosen@0');
  const framebuffer = chosen?.children.find((child) => child.isCompatible('simple-framebuffer'));
  if (framebuffer !== undefined) populator.createPlatformDevice(framebuffer);
  populator.populate(view.root, matches);
  return { devices: populator.devices, skipped: populator.skipped };
}

/**
 * The devices of {@link populate}: what of_platform_populate() and of_amba_device_create()
 * create for `tree` (see {@link populate} for the order and rules).
 */
export function populateDevices(
  tree: DeviceTree | DtNode,
  options: PopulateOptions = {},
): readonly DtDevice[] {
  return populate(tree, options).devices;
}
