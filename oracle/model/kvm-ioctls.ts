import { isKernelError } from '@vfiokit/core';
import { type HostProcess, kvmDeviceAttrArg, kvmDeviceAttrValue } from '@vfiokit/host';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import { type IoctlContext, type NamedValue, namedArg, needArgs, numberArg, parseNumber } from './ioctls.js';
import { latin1, ScenarioError } from './scenario.js';

// The KVM rows of FORMAT.md's ioctl table, decoded as runner/kvm-ioctls.h decodes them.

export const KVM_DEVICE_TYPES: readonly NamedValue[] = [
  { name: 'KVM_DEV_TYPE_VFIO', value: K.KVM_DEV_TYPE_VFIO },
  { name: 'KVM_DEV_TYPE_ARM_VGIC_V2', value: K.KVM_DEV_TYPE_ARM_VGIC_V2 },
  { name: 'KVM_DEV_TYPE_ARM_VGIC_V3', value: K.KVM_DEV_TYPE_ARM_VGIC_V3 },
  { name: 'KVM_DEV_TYPE_ARM_VGIC_ITS', value: K.KVM_DEV_TYPE_ARM_VGIC_ITS },
];

export const KVM_ATTR_GROUPS: readonly NamedValue[] = [
  { name: 'KVM_DEV_ARM_VGIC_GRP_ADDR', value: K.KVM_DEV_ARM_VGIC_GRP_ADDR },
  { name: 'KVM_DEV_ARM_VGIC_GRP_DIST_REGS', value: 1 },
  { name: 'KVM_DEV_ARM_VGIC_GRP_NR_IRQS', value: K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS },
  { name: 'KVM_DEV_ARM_VGIC_GRP_CTRL', value: K.KVM_DEV_ARM_VGIC_GRP_CTRL },
  { name: 'KVM_DEV_VFIO_FILE', value: K.KVM_DEV_VFIO_FILE },
];

export const KVM_ATTRS: readonly NamedValue[] = [
  { name: 'KVM_VGIC_V2_ADDR_TYPE_DIST', value: K.KVM_VGIC_V2_ADDR_TYPE_DIST },
  { name: 'KVM_VGIC_V2_ADDR_TYPE_CPU', value: K.KVM_VGIC_V2_ADDR_TYPE_CPU },
  { name: 'KVM_VGIC_V3_ADDR_TYPE_DIST', value: K.KVM_VGIC_V3_ADDR_TYPE_DIST },
  { name: 'KVM_VGIC_V3_ADDR_TYPE_REDIST', value: K.KVM_VGIC_V3_ADDR_TYPE_REDIST },
  { name: 'KVM_DEV_ARM_VGIC_CTRL_INIT', value: K.KVM_DEV_ARM_VGIC_CTRL_INIT },
  { name: 'KVM_DEV_VFIO_FILE_ADD', value: K.KVM_DEV_VFIO_FILE_ADD },
  { name: 'KVM_DEV_VFIO_FILE_DEL', value: K.KVM_DEV_VFIO_FILE_DEL },
];

export const KVM_CAPS: readonly NamedValue[] = [
  { name: 'KVM_CAP_IRQCHIP', value: K.KVM_CAP_IRQCHIP },
  { name: 'KVM_CAP_USER_MEMORY', value: K.KVM_CAP_USER_MEMORY },
  { name: 'KVM_CAP_IRQ_ROUTING', value: K.KVM_CAP_IRQ_ROUTING },
  { name: 'KVM_CAP_IRQFD', value: K.KVM_CAP_IRQFD },
  { name: 'KVM_CAP_SIGNAL_MSI', value: K.KVM_CAP_SIGNAL_MSI },
  { name: 'KVM_CAP_IRQFD_RESAMPLE', value: K.KVM_CAP_IRQFD_RESAMPLE },
  { name: 'KVM_CAP_DEVICE_CTRL', value: K.KVM_CAP_DEVICE_CTRL },
  { name: 'KVM_CAP_NR_VCPUS', value: K.KVM_CAP_NR_VCPUS },
  { name: 'KVM_CAP_MAX_VCPUS', value: K.KVM_CAP_MAX_VCPUS },
  { name: 'KVM_CAP_MAX_VCPU_ID', value: K.KVM_CAP_MAX_VCPU_ID },
  { name: 'KVM_CAP_MSI_DEVID', value: K.KVM_CAP_MSI_DEVID },
  { name: 'KVM_CAP_ARM_IRQ_LINE_LAYOUT_2', value: K.KVM_CAP_ARM_IRQ_LINE_LAYOUT_2 },
  { name: 'KVM_CAP_ARM_SET_DEVICE_ADDR', value: K.KVM_CAP_ARM_SET_DEVICE_ADDR },
  { name: 'KVM_CAP_ARM_USER_IRQ', value: K.KVM_CAP_ARM_USER_IRQ },
];

export const KVM_IRQFD_FLAGS: readonly NamedValue[] = [
  { name: 'DEASSIGN', value: K.KVM_IRQFD_FLAG_DEASSIGN },
  { name: 'RESAMPLE', value: K.KVM_IRQFD_FLAG_RESAMPLE },
];

function call(body: () => string): string {
  try {
    return body();
  } catch (error) {
    if (isKernelError(error)) return error.code;
    throw error;
  }
}

const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));

/** runner/kvm-ioctls.h `run_kvm_ioctl`: the result text, or undefined when NAME is not KVM's. */
export function runKvmIoctl(ctx: IoctlContext, fd: number, name: string, x: number): string | undefined {
  const { line, execute } = ctx;
  const proc = (): HostProcess => {
    if (ctx.process === undefined) throw new ScenarioError(line.lineno, 'no process');
    return ctx.process;
  };
  switch (name) {
    case 'KVM_CHECK_EXTENSION': {
      needArgs(line, x, 1);
      const cap = namedArg(line, x, KVM_CAPS);
      return execute ? call(() => `ret=${proc().ioctl(fd, K.KVM_CHECK_EXTENSION, Number(cap))}`) : '';
    }
    case 'KVM_GET_API_VERSION':
      needArgs(line, x, 0);
      return execute ? call(() => `ret=${proc().ioctl(fd, K.KVM_GET_API_VERSION, 0)}`) : '';
    case 'KVM_CREATE_VM':
    case 'KVM_CREATE_VCPU': {
      needArgs(line, x, 2);
      if (ctx.inBg) throw new ScenarioError(line.lineno, 'a background job cannot define names');
      const arg = numberArg(line, x);
      const entry = ctx.names.define(line, x + 1, 'fd');
      if (!execute) return '';
      const request = name === 'KVM_CREATE_VM' ? K.KVM_CREATE_VM : K.KVM_CREATE_VCPU;
      try {
        entry.fd = proc().ioctl(fd, request, Number(BigInt.asUintN(64, arg)));
        return 'ret=fd';
      } catch (error) {
        entry.failed = true;
        if (isKernelError(error)) return error.code;
        throw error;
      }
    }
    case 'KVM_CREATE_DEVICE': {
      needArgs(line, x, 2);
      if (ctx.inBg) throw new ScenarioError(line.lineno, 'a background job cannot define names');
      const type = namedArg(line, x, KVM_DEVICE_TYPES);
      const entry = ctx.names.define(line, x + 1, 'fd');
      if (!execute) return '';
      const bytes = new Uint8Array(12);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, u32(type), true);
      try {
        const ret = proc().ioctl(fd, K.KVM_CREATE_DEVICE, bytes);
        entry.fd = view.getUint32(4, true);
        return `ret=${ret}`;
      } catch (error) {
        entry.failed = true;
        if (isKernelError(error)) return error.code;
        throw error;
      }
    }
    case 'KVM_SET_DEVICE_ATTR':
    case 'KVM_GET_DEVICE_ATTR':
    case 'KVM_HAS_DEVICE_ATTR':
      return deviceAttr(ctx, fd, name, x, proc);
    case 'KVM_IRQFD': {
      const n = line.tokens.length;
      if (n !== x + 3 && n !== x + 4)
        throw new ScenarioError(line.lineno, 'KVM_IRQFD EFD GSI FLAGS [RESAMPLEFD]');
      const efd = ctx.fdOf(x);
      const gsi = numberArg(line, x + 1);
      const flags = namedArg(line, x + 2, KVM_IRQFD_FLAGS);
      const rfd = n === x + 4 ? ctx.fdOf(x + 3) : 0;
      if (!execute) return '';
      const bytes = new Uint8Array(32);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, efd >>> 0, true);
      view.setUint32(4, u32(gsi), true);
      view.setUint32(8, u32(flags), true);
      view.setUint32(12, rfd >>> 0, true);
      return call(() => `ret=${proc().ioctl(fd, K.KVM_IRQFD, bytes)}`);
    }
    case 'KVM_SET_GSI_ROUTING': {
      const bytes = gsiRouting(ctx, x);
      return execute ? call(() => `ret=${proc().ioctl(fd, K.KVM_SET_GSI_ROUTING, bytes)}`) : '';
    }
    case 'KVM_IRQ_LINE': {
      needArgs(line, x, 2);
      const irq = numberArg(line, x);
      const level = numberArg(line, x + 1);
      if (!execute) return '';
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, u32(irq), true);
      view.setUint32(4, u32(level), true);
      return call(() => `ret=${proc().ioctl(fd, K.KVM_IRQ_LINE, bytes)}`);
    }
    default:
      return undefined;
  }
}

// kvm_device_attr(): VALUE is a number (a __u64 for KVM_DEV_ARM_VGIC_GRP_ADDR, else a __u32)
// or an fd name (its fd as a __s32); without VALUE, addr is NULL; GET always passes addr.
function deviceAttr(ctx: IoctlContext, fd: number, name: string, x: number, proc: () => HostProcess): string {
  const { line } = ctx;
  const n = line.tokens.length;
  if (n < x + 2 || n > x + 3) throw new ScenarioError(line.lineno, `${name} GROUP ATTR [VALUE]`);
  const group = u32(namedArg(line, x, KVM_ATTR_GROUPS));
  const attr = namedArg(line, x + 1, KVM_ATTRS);
  const hasValue = n === x + 3;
  const number = hasValue ? parseNumber(line.tokens[x + 2]) : undefined;
  const vfd = hasValue && number === undefined ? ctx.fdOf(x + 2) : -1;
  const get = name === 'KVM_GET_DEVICE_ATTR';
  if (get && hasValue) throw new ScenarioError(line.lineno, 'KVM_GET_DEVICE_ATTR GROUP ATTR');
  if (!ctx.execute) return '';
  const value = !hasValue ? undefined : number === undefined ? { fd: vfd } : number;
  const bytes = kvmDeviceAttrArg({
    group,
    attr: Number(attr),
    ...(value === undefined ? {} : { value }),
    addr: get,
  });
  const request = get
    ? K.KVM_GET_DEVICE_ATTR
    : name === 'KVM_SET_DEVICE_ATTR'
      ? K.KVM_SET_DEVICE_ATTR
      : K.KVM_HAS_DEVICE_ATTR;
  return call(() => {
    const ret = proc().ioctl(fd, request, bytes);
    if (!get) return `ret=${ret}`;
    const out = kvmDeviceAttrValue(bytes);
    const printed = group === K.KVM_DEV_ARM_VGIC_GRP_ADDR ? out : BigInt.asUintN(32, out);
    return `ret=${ret} value=0x${printed.toString(16)}`;
  });
}

const ROUTING_USAGE =
  'irqchip:GSI:CHIP:PIN, msi:GSI:LO:HI:DATA, msidev:GSI:LO:HI:DATA:DEVID or raw:GSI:TYPE:FLAGS';

// kvm_gsi_routing(): struct kvm_irq_routing with one 48-byte entry per token.
function gsiRouting(ctx: IoctlContext, x: number): Uint8Array {
  const { line } = ctx;
  const n = line.tokens.length - x;
  const bytes = new Uint8Array(8 + 48 * n);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, n, true);
  for (let i = 0; i < n; i++) {
    const token = line.tokens[x + i];
    if (token === undefined || token.quoted)
      throw new ScenarioError(line.lineno, `routing entry ${i + 1}: not a string`);
    const [kind, ...parts] = latin1(token.bytes)
      .split(':')
      .filter((p) => p.length > 0);
    const v = parts.slice(0, 6).map((p) => {
      // strtoull(p, &end, 0): decimal, 0x hex (or a leading-0 octal), the whole part
      const value = /^0[xX][0-9a-fA-F]+$/.test(p)
        ? BigInt(p)
        : /^0[0-7]*$/.test(p)
          ? BigInt(`0o${p.slice(1) || '0'}`)
          : /^[1-9][0-9]*$/.test(p)
            ? BigInt(p)
            : undefined;
      if (value === undefined || value >= 1n << 64n)
        throw new ScenarioError(line.lineno, `routing entry ${i + 1}: bad number ${p}`);
      return Number(BigInt.asUintN(32, value));
    });
    const at = 8 + 48 * i;
    const put = (offset: number, value: number | undefined) => view.setUint32(at + offset, value ?? 0, true);
    if (kind === 'irqchip' && v.length === 3) {
      put(0, v[0]);
      put(4, K.KVM_IRQ_ROUTING_IRQCHIP);
      put(16, v[1]);
      put(20, v[2]);
    } else if ((kind === 'msi' && v.length === 4) || (kind === 'msidev' && v.length === 5)) {
      put(0, v[0]);
      put(4, K.KVM_IRQ_ROUTING_MSI);
      put(16, v[1]);
      put(20, v[2]);
      put(24, v[3]);
      if (kind === 'msidev') {
        put(8, K.KVM_MSI_VALID_DEVID);
        put(28, v[4]);
      }
    } else if (kind === 'raw' && v.length === 3) {
      put(0, v[0]);
      put(4, v[1]);
      put(8, v[2]);
    } else {
      throw new ScenarioError(line.lineno, `routing entry ${i + 1}: ${ROUTING_USAGE}`);
    }
  }
  return bytes;
}
