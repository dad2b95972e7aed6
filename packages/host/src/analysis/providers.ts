import {
  type DtDevice,
  type DtMsiController,
  isFdtError,
  iteratePhandles,
  type OfNode,
  type OfTree,
} from '@vfiokit/devicetree';
import { dependenciesOf } from './dependencies.js';
import type { DependencyKind } from './types.js';

/**
 * Devices the host itself needs, by node path, with what they provide: the IOMMUs, MSI
 * controllers and interrupt controllers other devices sit behind, and the providers of the
 * clocks, resets, power domains, PHYs, DMA channels and pin states other devices reference
 * (a pin state's provider is the device whose node contains the state node). Handing one of
 * them to a VM would take it from every device that uses it, so the analysis never offers it.
 */
export function providerRoles(
  tree: OfTree,
  devices: readonly DtDevice[],
  msiControllers: readonly DtMsiController[],
): Map<string, string> {
  const users = new Map<string, Map<string, Set<string>>>();
  const note = (provider: string, what: string, user: DtDevice): void => {
    if (provider === user.path) return;
    const byWhat = users.get(provider) ?? new Map<string, Set<string>>();
    const set = byWhat.get(what) ?? new Set<string>();
    set.add(user.name);
    byWhat.set(what, set);
    users.set(provider, byWhat);
  };
  const msiPaths = new Set(msiControllers.map((c) => c.path));
  const pathOf = new Map(devices.map((device) => [device.name, device.path]));
  for (const device of devices) {
    // A bus device (simple-bus, amba) holds its children: of_platform_populate made them under it.
    const parent = device.parent === undefined ? undefined : pathOf.get(device.parent);
    if (parent !== undefined) note(parent, 'bus', device);
    for (const link of device.iommus) note(link.target, 'IOMMU', device);
    const msi = device.msiParent?.target;
    if (msi !== undefined && msiPaths.has(msi)) note(msi, 'MSI controller', device);
    const node = tree.find(device.path);
    if (node !== undefined)
      for (const gpio of gpioProviders(tree, node)) note(gpio, 'GPIO controller', device);
    for (const dependency of dependenciesOf(tree, device, node)) {
      if (dependency.kind === 'pinctrl') {
        // The pin controller is the state node's nearest ancestor with a compatible.
        let node = tree.find(dependency.node)?.parent;
        while (node !== undefined && node.compatible.length === 0) node = node.parent;
        if (node !== undefined) note(node.path, 'pin controller', device);
      } else {
        note(dependency.node, KIND_TEXT[dependency.kind], device);
      }
    }
  }
  const roles = new Map<string, string>();
  for (const [path, byWhat] of users) {
    const text = [...byWhat]
      .map(([what, set]) => `${what} of ${set.size} device${set.size === 1 ? '' : 's'}`)
      .join(', ');
    roles.set(path, text);
  }
  return roles;
}

const KIND_TEXT: Record<Exclude<DependencyKind, 'pinctrl'>, string> = {
  clock: 'clock provider',
  reset: 'reset controller',
  'power-domain': 'power-domain provider',
  phy: 'PHY provider',
  dma: 'DMA engine',
  'interrupt-parent': 'interrupt controller',
};

// drivers/gpio/gpiolib-of.c of_find_gpio: a consumer names its lines in `gpios`, `gpio`,
// `<function>-gpios` or `<function>-gpio` (cells counted by the provider's `#gpio-cells`), on
// its own node or on child nodes without a compatible (gpio-keys' buttons, LEDs). Unbinding the
// GPIO controller would pull those lines from under the host driver.
function gpioProviders(tree: OfTree, node: OfNode): string[] {
  const out: string[] = [];
  const visit = (n: OfNode, top: boolean): void => {
    if (!top && n.compatible.length > 0) return;
    for (const property of n.node.properties) {
      const name = property.name;
      if (!(name === 'gpios' || name === 'gpio' || name.endsWith('-gpios') || name.endsWith('-gpio')))
        continue;
      try {
        for (const entry of iteratePhandles(tree, n, name, '#gpio-cells'))
          if (entry !== null) out.push(entry.target.path);
      } catch (error) {
        // A malformed list loses only what follows the bad entry, as of_parse_phandle does.
        if (!isFdtError(error)) throw error;
      }
    }
    for (const child of n.children) visit(child, false);
  };
  visit(node, true);
  return out;
}
