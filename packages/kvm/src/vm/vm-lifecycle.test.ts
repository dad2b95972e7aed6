import { EventFd } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errno } from '../testing/errno.js';
import { KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';
import { encodeIrqLine } from '../uapi/irq-line.js';
import type { KvmVfioFile } from './kvm-vfio.js';
import { KVM_MAX_VCPUS, Vm } from './vm.js';

// What a VMM does through /dev/kvm (oracle kvm-vgic-init-order, kvm-irqfd, kvm-vfio-device on
// Linux 6.12): vCPUs created one by one, the host's vGIC models, attribute reads, VM release.

const CTRL_INIT = { group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT };

describe('KVM_CREATE_VCPU (kvm_main.c kvm_vm_ioctl_create_vcpu, arm.c kvm_arch_vcpu_precreate)', () => {
  it('ids below KVM_MAX_VCPU_IDS, unique (EEXIST), none after vGIC init (EBUSY); indexes in creation order', () => {
    const vm = new Vm({ vcpus: 0 });
    expect(errno(() => vm.createVcpu(KVM_MAX_VCPUS))).toBe('EINVAL');
    expect(vm.createVcpu(5)).toBe(0);
    expect(vm.createVcpu(0)).toBe(1);
    expect(errno(() => vm.createVcpu(5))).toBe('EEXIST');
    const gic = vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    gic.setAttr(CTRL_INIT);
    expect(errno(() => vm.createVcpu(1))).toBe('EBUSY');
    expect(vm.nrVcpus).toBe(2);
    // KVM_IRQ_LINE's vcpu_index names a vCPU id (kvm_get_vcpu_by_id): id 5 is index 0.
    vm.irqLine(encodeIrqLine({ type: 'ppi', irqId: 27, vcpu: 5 }), 1);
    expect(vm.vgic.isPending(27, 0)).toBe(true);
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'ppi', irqId: 27, vcpu: 1 }), 1))).toBe('EINVAL');
  });

  it('a GICv2 vGIC caps max_vcpus at 8: the 9th vCPU is EINVAL, and so is an id of 8 or more', () => {
    const vm = new Vm({ vcpus: 0 });
    vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V2);
    expect(errno(() => vm.createVcpu(8))).toBe('EINVAL');
    for (let id = 0; id < 8; id++) vm.createVcpu(id);
    expect(errno(() => vm.createVcpu(3))).toBe('EINVAL'); // created_vcpus >= max_vcpus first
  });

  it('errno order holds for any sequence of creations (property): EINVAL id, EINVAL full, EBUSY, EEXIST', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 30 }),
        fc.nat(30),
        (ids, initAt) => {
          const vm = new Vm({ vcpus: 0 });
          const gic = vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
          const created = new Set<number>();
          ids.forEach((id, i) => {
            if (i === initAt) gic.setAttr(CTRL_INIT);
            const expected =
              id >= KVM_MAX_VCPUS ? 'EINVAL' : i >= initAt ? 'EBUSY' : created.has(id) ? 'EEXIST' : undefined;
            expect(errno(() => vm.createVcpu(id))).toBe(expected);
            if (expected === undefined) created.add(id);
          });
          expect(vm.nrVcpus).toBe(created.size);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('KVM_CREATE_DEVICE against the host GIC (kvm_main.c kvm_ioctl_create_device)', () => {
  it('a model the host cannot emulate is ENODEV before the EEXIST of a second vGIC (GICv3-only host)', () => {
    const vm = new Vm({ vgicVersions: [3] });
    vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(errno(() => vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V2))).toBe('ENODEV');
    expect(errno(() => vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3))).toBe('EEXIST');
    expect(errno(() => new Vm({ vgicVersions: [4 as 3] }))).toBe('EINVAL');
  });
});

describe('KVM_GET_DEVICE_ATTR (vgic-kvm-device.c vgic_get_common_attr)', () => {
  it('NR_IRQS reads nr_spis + 32 (32 before any set); addresses read back, all ones while unset; CTRL is ENXIO', () => {
    const vm = new Vm();
    const gic = vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    const nr = { group: K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0 };
    const dist = { group: K.KVM_DEV_ARM_VGIC_GRP_ADDR, attr: K.KVM_VGIC_V3_ADDR_TYPE_DIST };
    expect(gic.getAttr(nr)).toBe(32n);
    gic.setAttr({ ...nr, value: 128 });
    expect(gic.getAttr(nr)).toBe(128n);
    expect(gic.getAttr(dist)).toBe(0xffff_ffff_ffff_ffffn);
    gic.setAttr({ ...dist, value: 0x0800_0000 });
    expect(gic.getAttr(dist)).toBe(0x0800_0000n);
    expect(
      errno(() => gic.getAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_ADDR, attr: K.KVM_VGIC_V2_ADDR_TYPE_DIST })),
    ).toBe('ENXIO');
    expect(errno(() => gic.getAttr(CTRL_INIT))).toBe('ENXIO');
    gic.setAttr(CTRL_INIT);
    expect(gic.getAttr(nr)).toBe(128n);
  });
});

describe('VM release (kvm_destroy_vm → kvm_irqfd_release, kvm_vfio_release)', () => {
  it('every irqfd lets go of its eventfd, a resampled line is lowered, KVM-VFIO files are told', () => {
    const vm = new Vm();
    vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3).setAttr(CTRL_INIT);
    const kv = vm.createDevice(K.KVM_DEV_TYPE_VFIO);
    let kvm: object | undefined;
    const file: KvmVfioFile = { vfioFile: true, isOpen: true, setKvm: (k) => (kvm = k) };
    kv.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_ADD, file });
    expect(kvm).toBe(vm);
    const edge = new EventFd();
    const level = new EventFd();
    const resample = new EventFd();
    vm.vgic.setConfig(34, 'level'); // SPIs start edge (kvm_vgic_dist_init leaves config 0)
    vm.irqfd({ fd: edge, gsi: 1 });
    vm.irqfd({ fd: level, gsi: 2, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: resample });
    level.signal();
    expect(vm.vgic.isPending(34)).toBe(true);
    vm.release();
    expect(vm.vgic.isPending(34)).toBe(false);
    expect(kvm).toBeUndefined();
    expect(kv.fileList).toEqual([]);
    edge.signal();
    expect(edge.count).toBe(1n);
    vm.release(); // idempotent
    expect(vm.listIrqfds()).toEqual([]);
  });

  it('KVM-VFIO: FILE_ADD with a NULL addr is EFAULT, an unknown attr ENXIO first', () => {
    const kv = new Vm().createDevice(K.KVM_DEV_TYPE_VFIO);
    expect(
      errno(() => kv.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_ADD, nullAddr: true })),
    ).toBe('EFAULT');
    expect(errno(() => kv.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: 7, nullAddr: true }))).toBe('ENXIO');
  });
});
