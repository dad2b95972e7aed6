import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import {
  VFIO_DEVICE_SET_IRQS,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
} from '@vfiokit/vfio/uapi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { type KvmVmFile, kvmDeviceAttrArg } from './kvm-files.js';
import { kvmIrqfd } from './kvm-test-support.js';

// Two level IRQ indexes of one platform device, each with its own irqfd + resamplefd (the
// issue's delivery scenario: rust-vmm's vfio platform support handles index 0 only). A board
// whose GIC has the maintenance interrupt (KVM available) and a device with SPIs 10 and 11.
const LINES = [42, 43] as const;

async function twoIrqDevice() {
  const tree = new DeviceTreeBuilder()
    .root((root) => {
      root
        .string('compatible', 'test,board')
        .cells('#address-cells', 1)
        .cells('#size-cells', 1)
        .cells('interrupt-parent', ref('gic'));
      root.node('interrupt-controller@2f000000', (gic) => {
        gic
          .label('gic')
          .string('compatible', 'arm,gic-v3')
          .cells('#interrupt-cells', 3)
          .flag('interrupt-controller')
          .cells('interrupts', 1, 9, 4)
          .cells('reg', 0x2f000000, 0x10000, 0x2f100000, 0x200000);
      });
      root.node('dev@10000000', (dev) => {
        dev
          .string('compatible', 'test,two-irqs')
          .cells('reg', 0x1000_0000, 0x1000)
          .cells('interrupts', 0, 10, 4, 0, 11, 4);
      });
    })
    .build();
  const host = createHost(tree, { reset_required: false, enable_unsafe_noiommu_mode: true });
  await host.fs.run('echo vfio-platform > /sys/bus/platform/devices/10000000.dev/driver_override');
  await host.fs.run('echo 10000000.dev > /sys/bus/platform/drivers_probe');
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const group = proc.open('/dev/vfio/noiommu-0');
  const cfd = new Uint8Array(4);
  new DataView(cfd.buffer).setInt32(0, container, true);
  proc.ioctl(group, VFIO_GROUP_SET_CONTAINER, cfd);
  proc.ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
  const device = proc.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode('10000000.dev\0'));
  const vm = proc.ioctl(proc.open('/dev/kvm'), K.KVM_CREATE_VM, 0);
  const cd = new Uint8Array(12);
  new DataView(cd.buffer).setUint32(0, K.KVM_DEV_TYPE_ARM_VGIC_V3, true);
  proc.ioctl(vm, K.KVM_CREATE_DEVICE, cd);
  const gic = new DataView(cd.buffer).getUint32(4, true);
  const vcpu = proc.ioctl(vm, K.KVM_CREATE_VCPU, 0);
  proc.ioctl(
    gic,
    K.KVM_SET_DEVICE_ATTR,
    kvmDeviceAttrArg({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT }),
  );
  const fds = LINES.map((_, index) => {
    const trigger = proc.eventfd();
    const unmask = proc.eventfd();
    for (const [action, efd] of [
      [1 << 5, trigger],
      [1 << 4, unmask],
    ] as const) {
      const set = new Uint8Array(24);
      const view = new DataView(set.buffer);
      for (const [i, v] of [24, (1 << 2) | action, index, 0, 1].entries()) view.setUint32(4 * i, v, true);
      view.setInt32(20, efd, true);
      proc.ioctl(device, VFIO_DEVICE_SET_IRQS, set);
    }
    proc.ioctl(vm, K.KVM_IRQFD, kvmIrqfd(trigger, 10 + index, K.KVM_IRQFD_FLAG_RESAMPLE, unmask));
    return { trigger, unmask };
  });
  const kvm = (proc.fdget(vm) as KvmVmFile).vm;
  proc.kvmRun(vcpu, (cpu, v) => {
    cpu.setPmr(0xff);
    for (const intid of LINES) {
      v.vgic.setConfig(intid, 'level');
      v.vgic.setEnabled(intid, true);
    }
  });
  const line = (intid: number, high: boolean) => host.irqChip.chip.setLevel(intid, high);
  // The guest takes one interrupt: ack, the handler maybe clears the device, EOI.
  const take = (clear: boolean): number =>
    proc.kvmRun(vcpu, (cpu) => {
      const intid = cpu.ack();
      if (intid === 1023) return intid;
      if (clear) line(intid, false);
      cpu.eoi(intid);
      return intid;
    });
  return { host, proc, kvm, fds, line, take };
}

describe('two level IRQ indexes of one vfio-platform device, each through irqfd + resamplefd', () => {
  it('both are delivered; each EOI unmasks its own index only; a line left high comes back', async () => {
    const d = await twoIrqDevice();
    d.line(42, true);
    d.line(43, true);
    expect(d.kvm.stats.irqfdWakeups).toBe(2);
    expect(d.take(true)).toBe(42);
    expect(d.take(false)).toBe(43); // the handler did not clear index 1
    expect(d.kvm.stats.resamples).toBe(2);
    expect(d.kvm.vgic.isPending(42)).toBe(false);
    expect(d.kvm.vgic.isPending(43)).toBe(true); // vfio unmasked index 1, its line re-fired
    expect(d.take(true)).toBe(43);
    expect(d.take(true)).toBe(1023);
    for (const { trigger, unmask } of d.fds) {
      expect(d.proc.eventfdOf(trigger).warnings).toEqual([]);
      expect(d.proc.eventfdOf(unmask).readable).toBe(false);
    }
  });

  it('nothing is lost, duplicated or left masked under any interleaving (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('raise' as const), i: fc.integer({ min: 0, max: 1 }) }),
            fc.record({ op: fc.constant('take' as const), clear: fc.boolean() }),
          ),
          { maxLength: 40 },
        ),
        async (steps) => {
          const d = await twoIrqDevice();
          const high = [false, false];
          // Every raise of a low line is one interrupt the guest must see (at least once).
          const owed = [0, 0];
          for (const step of steps) {
            if (step.op === 'raise') {
              if (!high[step.i]) owed[step.i] = 1;
              high[step.i] = true;
              d.line(LINES[step.i] ?? 0, true);
            } else {
              const intid = d.take(step.clear);
              const i = LINES.indexOf(intid as 42 | 43);
              if (intid === 1023) {
                // Spurious only when no line is high (a high line is pending or re-fires).
                expect(high).toEqual([false, false]);
                continue;
              }
              // Never an interrupt for a line that was never raised since it was cleared.
              expect(high[i] || owed[i] === 1).toBe(true);
              owed[i] = 0;
              if (step.clear) high[i] = false;
            }
          }
          // Drain: the guest clears everything it takes; then both lines work again, once each.
          for (let n = 0; n < 6 && d.take(true) !== 1023; n++);
          expect(d.take(true)).toBe(1023);
          d.line(42, true);
          d.line(43, true);
          expect([d.take(true), d.take(true), d.take(true)]).toEqual([42, 43, 1023]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
