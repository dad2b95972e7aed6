import { isKernelError, KernelError } from '@vfiokit/core';
import { parseFdt, populate } from '@vfiokit/devicetree';
import { createHost, type KvmVmFile } from '@vfiokit/host';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureDtb, hostState, junoHost, virtHost } from '../test-support/assign.js';
import { fixtureTree, hostDevice } from '../test-support/fixtures.js';
import { assignDevice, releaseDevice, runAssignSteps, STEP_IMPLS, type StepImpl } from './assign.js';
import { ASSIGN_STEPS, AssignError, type AssignStep } from './assign-error.js';
import { GuestVm } from './guest-vm.js';

const PL330 = '7ff00000.dma-controller';
const PL031 = '9010000.pl031';

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

  it('the iommufd backend is not wired yet: open_container fails naming /dev/iommu', async () => {
    const host = junoHost();
    const vm = GuestVm.create(host, { vmm: 'crosvm' });
    const e = (await rejection(assignDevice(host, vm, PL330, { backend: 'iommufd' }))) as AssignError;
    expect(e.step).toBe('open_container');
    expect(e.message).toMatch(/\/dev\/iommu/);
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

type Scenario = 'juno-pl330-kvm' | 'virt-pl031-noiommu';

async function injectAt(
  scenario: Scenario,
  step: AssignStep,
  impls = STEP_IMPLS,
): Promise<{ before: string; after: string; error: unknown }> {
  const host = scenario === 'juno-pl330-kvm' ? junoHost() : virtHost();
  const vm = GuestVm.create(host, { vmm: scenario === 'juno-pl330-kvm' ? 'crosvm' : 'xen' });
  const device = scenario === 'juno-pl330-kvm' ? PL330 : PL031;
  const before = hostState(host, vm, device);
  const error = await rejection(
    runAssignSteps(
      host,
      vm,
      device,
      {
        beforeStep: (s) => {
          if (s === step) throw new (class extends Error {})(`injected at ${s}`);
        },
      },
      impls,
    ),
  );
  return { before, after: hostState(host, vm, device), error };
}

// The property's check, shared with the planted-bug run below.
const property = (impls: typeof STEP_IMPLS) =>
  fc.asyncProperty(
    fc.constantFrom<Scenario>('juno-pl330-kvm', 'virt-pl031-noiommu'),
    fc.constantFrom(...ASSIGN_STEPS),
    async (scenario, step) => {
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
  const host = scenario === 'juno-pl330-kvm' ? junoHost() : virtHost();
  const vm = GuestVm.create(host, { vmm: scenario === 'juno-pl330-kvm' ? 'crosvm' : 'xen' });
  const device = scenario === 'juno-pl330-kvm' ? PL330 : PL031;
  const before = hostState(host, vm, device);
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
  const error = await rejection(assignDevice(host, vm, device));
  armed = false;
  return { before, after: hostState(host, vm, device), error, calls };
}

describe('failure injection at every step (fast-check)', () => {
  it('a failure at any step names it and leaves the host and the VMM exactly as before', async () => {
    await fc.assert(property(STEP_IMPLS), { numRuns: 60 });
  }, 120_000);

  it('a failed system call anywhere inside a step (EINTR) is undone just as well', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Scenario>('juno-pl330-kvm', 'virt-pl031-noiommu'),
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
});
