import { isKernelError, KernelError } from '@vfiokit/core';
import { parseFdt, populate } from '@vfiokit/devicetree';
import { createHost, type KvmVmFile } from '@vfiokit/host';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureDtb, hostState, junoHost, virtHost } from '../test-support/assign.js';
import { fixtureTree, hostDevice } from '../test-support/fixtures.js';
import {
  type AssignOptions,
  assignDevice,
  releaseDevice,
  runAssignSteps,
  STEP_IMPLS,
  type StepImpl,
} from './assign.js';
import {
  ASSIGN_STEPS,
  AssignError,
  type AssignStep,
  assignStepsOf,
  IOMMUFD_ASSIGN_STEPS,
} from './assign-error.js';
import { GuestVm } from './guest-vm.js';
import { iommufdState } from './iommufd-test-support.js';

const PL330 = '7ff00000.dma-controller';
const PL031 = '9010000.pl031';

function rejectionSync(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('assignDevice / releaseDevice on the Juno PL330 (SMMU group, KVM irqfd + resamplefd, crosvm guest tree)', {
  timeout: 60_000,
}, () => {
  it("runs every step with the kernel's answers, and the guest node matches the host node", async () => {
    const host = junoHost();
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const a = await assignDevice(host, vm, PL330);
    expect(a.steps.map((s) => s.step)).toEqual([...ASSIGN_STEPS]);
    expect(a.steps.find((s) => s.step === 'open_group')?.detail).toMatch(/^open \/dev\/vfio\/1 = \d+$/);
    expect(a.steps.find((s) => s.step === 'set_iommu')?.detail).toBe('VFIO_SET_IOMMU VFIO_TYPE1v2_IOMMU');
    expect(a.iommuType).toBe('type1v2');
    expect(host.device(PL330)?.driverName).toBe('vfio-amba');
    // Level IRQs: every one is AUTOMASKED, so every irqfd has a resamplefd.
    const irqfds = (vm.process.fdget(vm.kvm?.vm as number) as KvmVmFile).vm.listIrqfds();
    expect(irqfds.map((i) => [i.gsi, i.resample])).toEqual(a.view.irqs.map((q) => [q.guestSpi, true]));
    const host330 = hostDevice(fixtureTree('juno-r2'), PL330);
    const guest = populate(parseFdt(a.guest.dtb)).devices.find((d) => d.compatible[0] === 'arm,pl330');
    expect(guest?.regions.map((r) => r.size)).toEqual(host330.regions.map((r) => r.size));
    expect(guest?.irqs.map((i) => [i.gicType, i.trigger])).toEqual(
      host330.irqs.map((i) => [i.gicType, i.trigger]),
    );
    expect(guest?.iommus).toHaveLength(host330.iommus.length);
    await releaseDevice(a);
    expect(host.device(PL330)?.driverName).toBeNull();
    expect(host.fs.read(`/sys/bus/amba/devices/${PL330}/driver_override`)).toBe('(null)\n');
    expect((vm.process.fdget(vm.kvm?.vm as number) as KvmVmFile).vm.listIrqfds()).toEqual([]);
    expect(isKernelError(await rejection(releaseDevice(a)), 'EINVAL')).toBe(true);
    // And it can go again.
    await releaseDevice(await assignDevice(host, vm, PL330));
  });

  it('QEMU has no node for a PL330: the guest_node step fails with ENODEV and everything is undone', async () => {
    const host = junoHost();
    const vm = GuestVm.create(host, { vmm: 'qemu' });
    const before = hostState(host, vm, PL330);
    const e = await rejection(assignDevice(host, vm, PL330));
    expect(e).toBeInstanceOf(AssignError);
    expect((e as AssignError).step).toBe('guest_node');
    expect((e as AssignError).code).toBe('ENODEV');
    expect((e as AssignError).message).toMatch(
      /Device 7ff00000.dma-controller can not be dynamically instantiated/,
    );
    expect(hostState(host, vm, PL330)).toBe(before);
  });

  it('without allow_unsafe_interrupts type1 refuses the group: set_iommu, EPERM (no MSI isolation on GICv2)', async () => {
    const host = createHost(fixtureDtb('juno-r2'), { reset_required: false });
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const e = (await rejection(assignDevice(host, vm, PL330))) as AssignError;
    expect([e.step, e.code]).toEqual(['set_iommu', 'EPERM']);
  });

  it("the iommufd backend: BIND_IOMMUFD is EPERM without iommufd's own allow_unsafe_interrupts (GICv2: no isolated MSI)", async () => {
    // drivers/iommu/iommufd/device.c iommufd_device_bind: its own module parameter, not
    // vfio_iommu_type1's (which this host sets).
    const host = junoHost();
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const before = hostState(host, vm, PL330);
    const e = (await rejection(assignDevice(host, vm, PL330, { backend: 'iommufd' }))) as AssignError;
    expect([e.step, e.code, e.undoFailures]).toEqual(['bind_iommufd', 'EPERM', []]);
    expect(hostState(host, vm, PL330)).toBe(before);
  });

  it('the iommufd backend runs its own steps, on the cdev found under <dev>/vfio-dev', async () => {
    const host = junoHost({ iommufdUnsafe: true });
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const a = await assignDevice(host, vm, PL330, { backend: 'iommufd' });
    expect(a.steps.map((s) => s.step)).toEqual([...IOMMUFD_ASSIGN_STEPS]);
    expect(assignStepsOf('iommufd')).toBe(IOMMUFD_ASSIGN_STEPS);
    expect(assignStepsOf('legacy')).toBe(ASSIGN_STEPS);
    expect(a.backend).toBe('iommufd');
    expect(a.iommuType).toBe('iommufd');
    expect(a.group).toBe('1');
    expect(a.iommufd).toEqual({ cdev: 'vfio0', devid: 1, ioasId: 2 });
    expect(a.steps.find((s) => s.step === 'open_cdev')?.detail).toMatch(
      /^open \/dev\/vfio\/devices\/vfio0 = \d+$/,
    );
    expect(a.steps.find((s) => s.step === 'ioas_map')?.detail).toBe(
      'IOMMU_IOAS_MAP ioas 2 iova 0x80000000 size 0x1000000 FIXED_IOVA|READABLE|WRITEABLE',
    );
    // The group cannot be opened while its device is bound through the cdev (vfio_device_block_group).
    expect(
      isKernelError(
        rejectionSync(() => vm.process.open('/dev/vfio/1')),
        'EBUSY',
      ),
    ).toBe(true);
    const irqfds = (vm.process.fdget(vm.kvm?.vm as number) as KvmVmFile).vm.listIrqfds();
    expect(irqfds.map((i) => [i.gsi, i.resample])).toEqual(a.view.irqs.map((q) => [q.guestSpi, true]));
    await releaseDevice(a);
    expect(host.device(PL330)?.driverName).toBeNull();
    expect(vm.process.openFds).toEqual([vm.kvm?.kvm, vm.kvm?.vm, vm.kvm?.vgic, vm.kvm?.vcpu, vm.kvm?.vfio]);
    // And legacy can take it next (the cdev bind is gone with the fd).
    await releaseDevice(await assignDevice(host, vm, PL330, { backend: 'legacy' }));
  });

  it("backend: unknown names are EINVAL; 'container' is the older name of legacy", async () => {
    const host = junoHost();
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const e = await rejection(assignDevice(host, vm, PL330, { backend: 'vfio' as 'legacy' }));
    expect(isKernelError(e, 'EINVAL')).toBe(true);
    const a = await assignDevice(host, vm, PL330, { backend: 'container' });
    expect([a.backend, a.steps.map((s) => s.step)]).toEqual(['legacy', [...ASSIGN_STEPS]]);
    await releaseDevice(a);
  });
});

describe('the PL031 of QEMU virt: a host driver to hand back, no-IOMMU, no KVM (eventfds only)', () => {
  it('Xen partial DT: unbinds rtc-pl031, binds vfio-amba, writes xen,force-assign-without-iommu; release rebinds rtc-pl031', async () => {
    const host = virtHost();
    const vm = GuestVm.create(host, { vmm: 'xen' });
    expect(vm.kvm).toBeUndefined();
    expect(host.device(PL031)?.driverName).toBe('rtc-pl031');
    const a = await assignDevice(host, vm, PL031);
    expect(a.steps.find((s) => s.step === 'unbind')?.detail).toBe(
      `echo ${PL031} > /sys/bus/amba/drivers/rtc-pl031/unbind`,
    );
    expect(a.iommuType).toBe('noiommu');
    expect(a.steps.find((s) => s.step === 'map_ram')?.detail).toBe('no-IOMMU: no DMA mapping');
    expect(a.guest.dts).toContain('xen,force-assign-without-iommu;');
    expect(a.guest.dts).toContain('xen,path = "/pl031@9010000";');
    expect(a.guest.dts).toContain('interrupts = <0x00 0x02 0x04>;'); // 1:1 with the host's SPI 2
    await releaseDevice(a);
    expect(host.device(PL031)?.driverName).toBe('rtc-pl031');
  });
});

type Scenario =
  | 'juno-pl330-kvm'
  | 'virt-pl031-noiommu'
  | 'juno-pl330-iommufd'
  | 'virt-pl031-emulated-iommufd';

const LEGACY_SCENARIOS: readonly Scenario[] = ['juno-pl330-kvm', 'virt-pl031-noiommu'];
const IOMMUFD_SCENARIOS: readonly Scenario[] = ['juno-pl330-iommufd', 'virt-pl031-emulated-iommufd'];

/**
 * A host, VM, device and options for a scenario. The iommufd Juno one runs its VMM without
 * CAP_IPC_LOCK on 4 MiB of RAM, so iommufd charges its pins to the user's locked_vm and the
 * property sees any pin left behind; its host boots with iommufd.allow_unsafe_interrupts=1.
 */
function setUp(scenario: Scenario) {
  const juno = scenario.startsWith('juno');
  const host = juno ? junoHost({ iommufdUnsafe: scenario === 'juno-pl330-iommufd' }) : virtHost();
  const vm =
    scenario === 'juno-pl330-iommufd'
      ? GuestVm.create(host, { vmm: 'crosvm', ramSize: 0x40_0000, capabilities: ['CAP_SYS_RAWIO'] })
      : GuestVm.create(host, { vmm: scenario === 'virt-pl031-noiommu' ? 'xen' : 'crosvm' });
  const device = juno ? PL330 : PL031;
  const options: AssignOptions =
    scenario === 'juno-pl330-iommufd'
      ? { backend: 'iommufd' }
      : scenario === 'virt-pl031-emulated-iommufd'
        ? { backend: 'iommufd', driver: 'vfio-pl031' }
        : {};
  const state = () => iommufdState(hostState(host, vm, device), vm);
  return { host, vm, device, options, state };
}

async function injectAt(
  scenario: Scenario,
  step: AssignStep,
  impls = STEP_IMPLS,
): Promise<{ before: string; after: string; error: unknown }> {
  const { host, vm, device, options, state } = setUp(scenario);
  const before = state();
  const error = await rejection(
    runAssignSteps(
      host,
      vm,
      device,
      {
        ...options,
        beforeStep: (s) => {
          if (s === step) throw new (class extends Error {})(`injected at ${s}`);
        },
      },
      impls,
    ),
  );
  return { before, after: state(), error };
}

// The property's check, shared with the planted-bug run below.
const property = (impls: typeof STEP_IMPLS) =>
  fc.asyncProperty(
    fc.oneof(
      fc.tuple(fc.constantFrom(...LEGACY_SCENARIOS), fc.constantFrom<AssignStep>(...ASSIGN_STEPS)),
      fc.tuple(fc.constantFrom(...IOMMUFD_SCENARIOS), fc.constantFrom<AssignStep>(...IOMMUFD_ASSIGN_STEPS)),
    ),
    async ([scenario, step]) => {
      const { before, after, error } = await injectAt(scenario, step, impls);
      expect(error).toBeInstanceOf(AssignError);
      expect((error as AssignError).step).toBe(step);
      expect((error as AssignError).undoFailures).toEqual([]);
      expect(after).toBe(before);
    },
  );

/**
 * Fails the `n`-th system call the assignment makes (sysfs writes and the VMM process's
 * open/ioctl/eventfd/mmap), with `EINTR`, once: a failure inside a step, after part of it
 * took effect (the 5th of 9 irqfds, the group open after the container's).
 */
async function failNthSyscall(
  scenario: Scenario,
  n: number,
): Promise<{ before: string; after: string; error: unknown; calls: number }> {
  const { host, vm, device, options, state } = setUp(scenario);
  const before = state();
  let calls = 0;
  let armed = true;
  const wrap = <T extends object, K extends keyof T>(o: T, k: K) => {
    const original = o[k] as unknown as (...a: unknown[]) => unknown;
    (o as Record<K, unknown>)[k] = (...a: unknown[]) => {
      if (armed && ++calls === n) {
        armed = false;
        throw new KernelError('EINTR', `injected at system call ${n}`);
      }
      return original.apply(o, a);
    };
  };
  for (const k of ['open', 'ioctl', 'eventfd', 'mmapShared'] as const) wrap(vm.process, k);
  wrap(host.fs, 'write');
  const error = await rejection(assignDevice(host, vm, device, options));
  armed = false;
  return { before, after: state(), error, calls };
}

describe('failure injection at every step (fast-check)', () => {
  it('a failure at any step names it and leaves the host and the VMM exactly as before', async () => {
    await fc.assert(property(STEP_IMPLS), { numRuns: 120 });
  }, 120_000);

  it('every step of every scenario, exhaustively (both back ends): the same check as the property', async () => {
    const cases: [Scenario, readonly AssignStep[]][] = [
      ...LEGACY_SCENARIOS.map((x): [Scenario, readonly AssignStep[]] => [x, ASSIGN_STEPS]),
      ...IOMMUFD_SCENARIOS.map((x): [Scenario, readonly AssignStep[]] => [x, IOMMUFD_ASSIGN_STEPS]),
    ];
    for (const [scenario, steps] of cases)
      for (const step of steps) {
        const { before, after, error } = await injectAt(scenario, step);
        expect([scenario, step, (error as AssignError).step, (error as AssignError).undoFailures]).toEqual([
          scenario,
          step,
          step,
          [],
        ]);
        expect(after).toBe(before);
      }
  }, 120_000);

  it('a failed system call anywhere inside a step (EINTR) is undone just as well', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Scenario>(...LEGACY_SCENARIOS, ...IOMMUFD_SCENARIOS),
        fc.integer({ min: 1, max: 80 }),
        async (scenario, n) => {
          const { before, after, error, calls } = await failNthSyscall(scenario, n);
          if (calls < n) {
            expect(error).toBeUndefined(); // fewer calls than n: the assignment went through
            return;
          }
          expect(error).toBeInstanceOf(AssignError);
          expect((error as AssignError).code).toBe('EINTR');
          expect((error as AssignError).undoFailures).toEqual([]);
          expect(after).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('errno of an injected non-kernel failure is EIO, of a kernel one its own', async () => {
    const { error } = await injectAt('virt-pl031-noiommu', 'bind');
    expect((error as AssignError).code).toBe('EIO');
  });

  it('the property catches a planted bug: wire_irqs that forgets to close its eventfds', async () => {
    const leaky: StepImpl = (c, push) =>
      STEP_IMPLS.wire_irqs(c, (run) => {
        // Drop the close(2) undos of the eventfds (the planted bug).
        if (!/close/.test(run.toString())) push(run);
      });
    const planted = { ...STEP_IMPLS, wire_irqs: leaky };
    const out = await fc.check(property(planted), { numRuns: 60 });
    expect(out.failed).toBe(true);
  }, 120_000);

  it('the property catches a planted iommufd bug: attach_ioas without its DETACH (IOMMU_DESTROY is then EBUSY)', async () => {
    const sticky: StepImpl = (c) => STEP_IMPLS.attach_ioas(c, () => undefined);
    const out = await fc.check(property({ ...STEP_IMPLS, attach_ioas: sticky }), { numRuns: 120 });
    expect(out.failed).toBe(true);
  }, 120_000);
});
