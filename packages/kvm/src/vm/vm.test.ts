import { EventFd } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { errno } from '../testing/errno.js';
import { initialisedVm } from '../testing/vm.js';
import { GIC_SPURIOUS_INTID, KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';
import { encodeIrqLine } from '../uapi/irq-line.js';
import { Vm } from './vm.js';

const spi = (intid: number): number => encodeIrqLine({ type: 'spi', irqId: intid });

describe('vGIC creation and initialisation order (vgic-init.c, vgic-kvm-device.c)', () => {
  it('KVM_CREATE_DEVICE twice → EEXIST; GICv2 with more than 8 vCPUs → E2BIG; other types ENODEV', () => {
    const vm = new Vm({ vcpus: 2 });
    vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(errno(() => vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V2))).toBe('EEXIST');
    expect(errno(() => new Vm({ vcpus: 9 }).createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V2))).toBe('E2BIG');
    expect(errno(() => new Vm().createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3 + 1))).toBe('ENODEV');
  });

  it('addresses: set once (EEXIST), aligned (EINVAL), known types (ENXIO)', () => {
    const dev = new Vm().createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    const addr = (attr: number, value: number) => () =>
      dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_ADDR, attr, value });
    expect(errno(addr(K.KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0800_1000))).toBe('EINVAL');
    addr(K.KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0800_0000)();
    expect(errno(addr(K.KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0900_0000))).toBe('EEXIST');
    expect(errno(addr(K.KVM_VGIC_V2_ADDR_TYPE_CPU, 0x0900_0000))).toBe('ENXIO');
  });

  it('NR_IRQS: 64..1023, multiple of 32 (EINVAL); once, and not after init (EBUSY)', () => {
    const vm = new Vm();
    const dev = vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    const nr = (value: number) => () =>
      dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value });
    expect(errno(nr(32))).toBe('EINVAL');
    expect(errno(nr(100))).toBe('EINVAL');
    expect(errno(nr(1024))).toBe('EINVAL');
    nr(128)();
    expect(errno(nr(160))).toBe('EBUSY');
    dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT });
    expect(vm.vgic.nrSpis).toBe(96);
    const vm2 = new Vm();
    const dev2 = vm2.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    dev2.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT });
    expect(vm2.vgic.nrSpis).toBe(224); // VGIC_NR_IRQS_LEGACY − 32
    expect(errno(() => dev2.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 128 }))).toBe(
      'EBUSY',
    );
  });

  it('KVM_IRQFD is EAGAIN until KVM_DEV_ARM_VGIC_CTRL_INIT (eventfd.c: !kvm_arch_intc_initialized)', () => {
    const vm = new Vm();
    const fd = new EventFd();
    expect(errno(() => vm.irqfd({ fd, gsi: 0 }))).toBe('EAGAIN');
    const dev = vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(errno(() => vm.irqfd({ fd, gsi: 0 }))).toBe('EAGAIN');
    dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT });
    vm.irqfd({ fd, gsi: 0 });
    expect(vm.listIrqfds()).toHaveLength(1);
  });
});

describe('KVM_IRQ_LINE (arch/arm64/kvm/arm.c kvm_vm_ioctl_irq_line)', () => {
  it('without a vGIC: SPI/PPI → ENXIO; CPU type to a missing vCPU → EINVAL', () => {
    const vm = new Vm();
    expect(errno(() => vm.irqLine(spi(40), 1))).toBe('ENXIO');
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'ppi', irqId: 20 }), 1))).toBe('ENXIO');
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'cpu', irqId: 0, vcpu: 3 }), 1))).toBe('EINVAL');
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'cpu', irqId: 2 }), 1))).toBe('EINVAL');
  });

  it('GICv3 not initialised → EBUSY (vgic_lazy_init); GICv2 initialises lazily', () => {
    const v3 = new Vm();
    v3.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
    expect(errno(() => v3.irqLine(spi(40), 1))).toBe('EBUSY');
    const v2 = new Vm();
    v2.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V2);
    v2.irqLine(spi(40), 1);
    expect(v2.vgicInitialized).toBe(true);
    expect(v2.vgic.isPending(40)).toBe(true);
  });

  it('with a vGIC: CPU type → ENXIO; SPI < 32 or ≥ 32 + nr_spis → EINVAL; PPI outside 16..31 or missing vCPU → EINVAL; type 3 → EINVAL', () => {
    const vm = initialisedVm({ vcpus: 2, nrIrqs: 64 });
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'cpu', irqId: 0 }), 1))).toBe('ENXIO');
    expect(errno(() => vm.irqLine(spi(31), 1))).toBe('EINVAL');
    expect(errno(() => vm.irqLine(spi(64), 1))).toBe('EINVAL');
    vm.irqLine(spi(63), 1);
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'ppi', irqId: 15, vcpu: 1 }), 1))).toBe('EINVAL');
    expect(errno(() => vm.irqLine(encodeIrqLine({ type: 'ppi', irqId: 16, vcpu: 2 }), 1))).toBe('EINVAL');
    vm.irqLine(encodeIrqLine({ type: 'ppi', irqId: 27, vcpu: 1 }), 1);
    expect(vm.vgic.isPending(27, 1)).toBe(true);
    expect(vm.vgic.isPending(27, 0)).toBe(false);
    expect(errno(() => vm.irqLine(0x0300_0028, 1))).toBe('EINVAL');
  });
});

describe('irqfd (virt/kvm/eventfd.c)', () => {
  it('edge: a signal injects GSI n as INTID n + 32 (default routing) and consumes the count', () => {
    const vm = initialisedVm({}, [{ intid: 37, config: 'edge' }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 5 });
    fd.signal();
    expect(fd.count).toBe(0n);
    expect(vm.vcpu(0).ack()).toBe(37);
    vm.vcpu(0).eoi(37);
    expect(vm.vcpu(0).ack()).toBe(GIC_SPURIOUS_INTID);
  });

  it('a count pending at assign injects once and stays in the eventfd (irqfd_inject does not read it)', () => {
    const vm = initialisedVm({}, [{ intid: 37, config: 'edge' }]);
    const fd = new EventFd({ initval: 3 });
    vm.irqfd({ fd, gsi: 5 });
    expect(fd.count).toBe(3n);
    expect(vm.vcpu(0).ack()).toBe(37);
  });

  it('flags: unknown → EINVAL; same eventfd twice → EBUSY; closed fds → EBADF', () => {
    const vm = initialisedVm();
    const fd = new EventFd();
    expect(errno(() => vm.irqfd({ fd, gsi: 1, flags: 4 }))).toBe('EINVAL');
    vm.irqfd({ fd, gsi: 1 });
    expect(errno(() => vm.irqfd({ fd, gsi: 2 }))).toBe('EBUSY');
    const closed = new EventFd();
    closed.close();
    expect(errno(() => vm.irqfd({ fd: closed, gsi: 3 }))).toBe('EBADF');
    expect(
      errno(() =>
        vm.irqfd({ fd: new EventFd(), gsi: 3, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: closed }),
      ),
    ).toBe('EBADF');
    expect(errno(() => vm.irqfd({ fd: closed, gsi: 1, flags: K.KVM_IRQFD_FLAG_DEASSIGN }))).toBe('EBADF');
    expect(errno(() => vm.irqfd({ fd, gsi: 1, bogus: 1 } as never))).toBe('EINVAL');
    expect(errno(() => vm.irqfd({ fd: new EventFd(), gsi: -1 }))).toBe('EINVAL');
    expect(errno(() => vm.irqLine(spi(40), 0.5))).toBe('EINVAL');
  });

  it('EBUSY with RESAMPLE on a GSI without a resampler de-asserts it (kvm_irqfd_assign fail path)', () => {
    const vm = initialisedVm({}, [{ intid: 41, config: 'level' }]);
    const used = new EventFd();
    vm.irqfd({ fd: used, gsi: 2 });
    vm.irqLine(spi(41), 1);
    expect(vm.vgic.state(41).lineLevel).toBe(true);
    expect(
      errno(() =>
        vm.irqfd({ fd: used, gsi: 9, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: new EventFd() }),
      ),
    ).toBe('EBUSY');
    expect(vm.vgic.state(41).lineLevel).toBe(false);
  });

  it('the level loop of seed 003: asserted until EOI, then de-asserted and resamplefd signalled', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const trigger = new EventFd();
    const unmask = new EventFd();
    vm.irqfd({ fd: trigger, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: unmask });
    trigger.signal();
    const c = vm.vcpu(0);
    expect(c.ack()).toBe(40);
    expect(vm.vgic.state(40).lineLevel).toBe(true);
    expect(unmask.count).toBe(0n);
    c.eoi(40);
    expect(vm.vgic.state(40).lineLevel).toBe(false);
    expect(unmask.count).toBe(1n);
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
  });

  it('closing the resamplefd does not disable the irqfd; the EOI still de-asserts the line', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const trigger = new EventFd();
    const unmask = new EventFd();
    vm.irqfd({ fd: trigger, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: unmask });
    unmask.close();
    trigger.signal();
    const c = vm.vcpu(0);
    c.eoi(c.ack());
    expect(vm.vgic.state(40).lineLevel).toBe(false);
    trigger.signal();
    expect(c.ack()).toBe(40);
  });

  it('two GSIs on one pin: the ack notification goes to the GSI of the last entry (rt->chip)', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const IRQCHIP = K.KVM_IRQ_ROUTING_IRQCHIP;
    vm.setGsiRouting([
      { gsi: 100, type: IRQCHIP, irqchip: 0, pin: 8 },
      { gsi: 101, type: IRQCHIP, irqchip: 0, pin: 8 },
    ]);
    const [t100, r100, t101, r101] = [new EventFd(), new EventFd(), new EventFd(), new EventFd()];
    vm.irqfd({ fd: t100, gsi: 100, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: r100 });
    vm.irqfd({ fd: t101, gsi: 101, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: r101 });
    t100.signal();
    const c = vm.vcpu(0);
    c.eoi(c.ack());
    expect([r100.count, r101.count]).toEqual([0n, 1n]);
  });

  it('EOImode 1: the resample happens at DIR, not at the priority drop', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const trigger = new EventFd();
    const unmask = new EventFd();
    vm.irqfd({ fd: trigger, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: unmask });
    trigger.signal();
    const c = vm.vcpu(0);
    c.eoiMode = 1;
    c.eoi(c.ack());
    expect(unmask.count).toBe(0n);
    c.dir(40);
    expect(unmask.count).toBe(1n);
  });

  it('without resample a level-configured SPI stays asserted (irqfd_wakeup only sets level 1)', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8 });
    fd.signal();
    const c = vm.vcpu(0);
    c.eoi(c.ack());
    expect(c.ack()).toBe(40); // storm: the line never drops
  });

  it('two resample irqfds on one GSI share a resampler; both resamplefds fire; the last deassign de-asserts', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const [t1, t2, r1, r2] = [new EventFd(), new EventFd(), new EventFd(), new EventFd()];
    vm.irqfd({ fd: t1, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: r1 });
    vm.irqfd({ fd: t2, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: r2 });
    t1.signal();
    const c = vm.vcpu(0);
    c.eoi(c.ack());
    expect([r1.count, r2.count]).toEqual([1n, 1n]);
    t2.signal();
    vm.irqfd({ fd: t1, gsi: 8, flags: K.KVM_IRQFD_FLAG_DEASSIGN });
    expect(vm.vgic.state(40).lineLevel).toBe(true);
    vm.irqfd({ fd: t2, gsi: 8, flags: K.KVM_IRQFD_FLAG_DEASSIGN });
    expect(vm.vgic.state(40).lineLevel).toBe(false);
  });

  it('deassign matches fd AND gsi, succeeds with no match; afterwards signals inject nothing', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'edge' }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8 });
    vm.irqfd({ fd, gsi: 9, flags: K.KVM_IRQFD_FLAG_DEASSIGN });
    expect(vm.listIrqfds()).toHaveLength(1);
    vm.irqfd({ fd, gsi: 8, flags: K.KVM_IRQFD_FLAG_DEASSIGN });
    fd.signal();
    expect(fd.count).toBe(1n);
    expect(vm.vcpu(0).ack()).toBe(GIC_SPURIOUS_INTID);
    vm.irqfd({ fd, gsi: 8 }); // the eventfd can be reused after deassign
  });

  it('closing the eventfd (EPOLLHUP) shuts the irqfd down', () => {
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: new EventFd() });
    fd.signal();
    fd.close();
    expect(vm.listIrqfds()).toEqual([]);
    expect(vm.vgic.state(40).lineLevel).toBe(false);
  });
});

describe('KVM_SET_GSI_ROUTING (irqchip.c kvm_set_irq_routing, vgic-irqfd.c kvm_set_routing_entry)', () => {
  const IRQCHIP = K.KVM_IRQ_ROUTING_IRQCHIP;
  it('re-routes an irqfd (irqfd_update): GSI 100 → pin 3 (INTID 35)', () => {
    const vm = initialisedVm({}, [{ intid: 35, config: 'edge' }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 100 });
    fd.signal();
    expect(vm.vcpu(0).ack()).toBe(GIC_SPURIOUS_INTID);
    vm.setGsiRouting([{ gsi: 100, type: IRQCHIP, irqchip: 0, pin: 3 }]);
    fd.signal();
    expect(vm.vcpu(0).ack()).toBe(35);
  });

  it('validations: gsi ≥ 4096, flags, duplicate GSI, pin ≥ 988, irqchip ≥ 1, unknown type → EINVAL', () => {
    const vm = initialisedVm();
    const bad = (entries: Parameters<Vm['setGsiRouting']>[0], flags = 0) =>
      errno(() => vm.setGsiRouting(entries, flags));
    expect(bad([{ gsi: 4096, type: IRQCHIP, irqchip: 0, pin: 0 }])).toBe('EINVAL');
    expect(bad([], 1)).toBe('EINVAL');
    expect(bad([{ gsi: 1, type: IRQCHIP, irqchip: 0, pin: 0, flags: K.KVM_MSI_VALID_DEVID }])).toBe('EINVAL');
    expect(
      bad([{ gsi: 1, type: K.KVM_IRQ_ROUTING_MSI, addressLo: 0, addressHi: 0, data: 0, flags: 2 }]),
    ).toBe('EINVAL');
    expect(
      bad([
        { gsi: 1, type: IRQCHIP, irqchip: 0, pin: 0 },
        { gsi: 1, type: IRQCHIP, irqchip: 0, pin: 1 },
      ]),
    ).toBe('EINVAL');
    expect(bad([{ gsi: 1, type: IRQCHIP, irqchip: 0, pin: 988 }])).toBe('EINVAL');
    expect(bad([{ gsi: 1, type: IRQCHIP, irqchip: 1, pin: 0 }])).toBe('EINVAL');
    expect(bad([{ gsi: 1, type: 3 }])).toBe('EINVAL');
    // A failed update keeps the old table.
    expect(vm.routesOf(5)).toHaveLength(1);
    vm.setGsiRouting([
      {
        gsi: 1,
        type: K.KVM_IRQ_ROUTING_MSI,
        addressLo: 0x0808_0040,
        addressHi: 0,
        data: 1,
        flags: K.KVM_MSI_VALID_DEVID,
        devid: 8,
      },
    ]);
    expect(vm.routesOf(5)).toHaveLength(0);
  });

  it('a pin past the VM SPIs is accepted and the injection is dropped (vgic_irqfd_set_irq → EINVAL)', () => {
    const vm = initialisedVm({ nrIrqs: 64 });
    const fd = new EventFd();
    vm.setGsiRouting([{ gsi: 0, type: IRQCHIP, irqchip: 0, pin: 500 }]);
    vm.irqfd({ fd, gsi: 0 });
    fd.signal();
    expect(vm.stats.droppedInjections).toBe(1);
  });

  it('MSI routes need a vITS: injection fails -ENODEV (not modelled) and is counted as dropped', () => {
    const vm = initialisedVm();
    vm.setGsiRouting([
      { gsi: 2, type: K.KVM_IRQ_ROUTING_MSI, addressLo: 0x0808_0040, addressHi: 0, data: 1 },
    ]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 2 });
    fd.signal();
    expect(vm.stats.droppedInjections).toBeGreaterThan(0);
  });

  it('NOT IN LINUX (opt-in): KVM_IRQ_ROUTING_IRQCHIP_PPI routes a GSI to a PPI of one vCPU, with resample', async () => {
    const { KVM_IRQ_ROUTING_IRQCHIP_PPI } = await import('../uapi/constants.js');
    const entry = { gsi: 7, type: KVM_IRQ_ROUTING_IRQCHIP_PPI, irqchip: 0, vcpu: 1, pin: 11 } as const;
    expect(errno(() => initialisedVm({ vcpus: 2 }).setGsiRouting([entry]))).toBe('EINVAL');
    const vm = initialisedVm({ vcpus: 2, ppiRouting: true });
    expect(errno(() => vm.setGsiRouting([{ ...entry, vcpu: 2 }]))).toBe('EINVAL');
    vm.setGsiRouting([entry]);
    vm.vgic.setEnabled(27, true, 1);
    const fd = new EventFd();
    const resample = new EventFd();
    vm.irqfd({ fd, gsi: 7, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: resample });
    fd.signal();
    expect(vm.vcpu(0).ack()).toBe(GIC_SPURIOUS_INTID);
    const c = vm.vcpu(1);
    expect(c.ack()).toBe(27);
    c.eoi(27);
    expect(resample.count).toBe(1n);
  });
});

describe('KVM-VFIO device (virt/kvm/vfio.c)', () => {
  const file = () => {
    const f = {
      vfioFile: true as const,
      isOpen: true,
      kvm: undefined as object | undefined,
      setKvm(k: object | undefined) {
        f.kvm = k;
      },
    };
    return f;
  };
  it('one per VM (EBUSY); FILE_ADD/FILE_DEL with kvm_vfio_file_set_kvm', () => {
    const vm = new Vm();
    const dev = vm.createDevice(K.KVM_DEV_TYPE_VFIO);
    expect(errno(() => vm.createDevice(K.KVM_DEV_TYPE_VFIO))).toBe('EBUSY');
    const f = file();
    dev.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_ADD, file: f });
    expect(f.kvm).toBe(vm);
    expect(
      errno(() => dev.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_ADD, file: f })),
    ).toBe('EEXIST');
    dev.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_DEL, file: f });
    expect(f.kvm).toBeUndefined();
    expect(
      errno(() => dev.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_DEL, file: f })),
    ).toBe('ENOENT');
  });
  it('not a VFIO file → EINVAL; closed → EBADF; other attrs → ENXIO', () => {
    const dev = new Vm().createDevice(K.KVM_DEV_TYPE_VFIO);
    expect(
      errno(() =>
        dev.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_ADD, file: new EventFd() }),
      ),
    ).toBe('EINVAL');
    expect(
      errno(() =>
        dev.setAttr({
          group: K.KVM_DEV_VFIO_FILE,
          attr: K.KVM_DEV_VFIO_FILE_ADD,
          file: { ...file(), isOpen: false },
        }),
      ),
    ).toBe('EBADF');
    expect(errno(() => dev.setAttr({ group: K.KVM_DEV_VFIO_FILE, attr: 3, file: file() }))).toBe('ENXIO');
    expect(errno(() => dev.setAttr({ group: 2, attr: K.KVM_DEV_VFIO_FILE_ADD, file: file() }))).toBe('ENXIO');
    expect(dev.hasAttr({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_DEL })).toBe(true);
  });
});
