import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import { VFIO_DEVICE_GET_IRQ_INFO } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf, virtDtb } from '../test-support.js';
import { kvmIrqfd, kvmPl031, PL031_INTID, raiseAlarm, word } from './kvm-test-support.js';

// The level-IRQ loop of seed 003 on a host made from QEMU virt's virtualization=on tree: the
// PL031 model raises its line → vfio-platform's automasked handler signals TRIGGER → KVM's
// irqfd consumes it and asserts SPI 34 → the guest acknowledges and EOIs inside KVM_RUN → the
// resampler de-asserts and signals vfio's UNMASK eventfd → vfio unmasks (virqfd.c), and a line
// still high is re-delivered (enable_irq's resend) after the ioctl returns.
describe('device model → vfio → irqfd → vGIC → EOI → resamplefd → vfio unmask, end to end', () => {
  it('one alarm is delivered once: irqfd consumes TRIGGER, the guest takes INTID 34, EOI unmasks, nothing is left', async () => {
    const k = await kvmPl031();
    raiseAlarm(k);
    const trigger = k.proc.eventfdOf(k.trigger);
    const unmask = k.proc.eventfdOf(k.unmask);
    expect(trigger.readable).toBe(false); // irqfd_wakeup consumed it
    expect(k.vmFile.vm.vgic.isPending(PL031_INTID)).toBe(true);
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(1);
    const taken = k.proc.kvmRun(k.vcpu, (cpu) => {
      const intid = cpu.ack();
      k.proc.pwrite(k.device, word(1), 0x1c); // the guest's handler clears the RTC (RTCICR)
      cpu.eoi(intid);
      return [intid, cpu.ack()];
    });
    expect(taken).toEqual([PL031_INTID, 1023]);
    expect(k.vmFile.vm.stats.resamples).toBe(1);
    expect(unmask.readable).toBe(false); // vfio's virqfd consumed the resample signal
    expect(k.vmFile.vm.vgic.isPending(PL031_INTID)).toBe(false);
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(1);
    expect([...trigger.warnings, ...unmask.warnings]).toEqual([]);
  });

  it('an EOI while the device still holds its line re-delivers once per EOI (no loss, no storm), without EventFd warnings', async () => {
    const k = await kvmPl031();
    raiseAlarm(k);
    const rounds = k.proc.kvmRun(k.vcpu, (cpu) => {
      const intid = cpu.ack();
      cpu.eoi(intid); // the handler forgot RTCICR
      return intid;
    });
    expect(rounds).toBe(PL031_INTID);
    // The resend runs after KVM_RUN returned: TRIGGER → irqfd → pending again, exactly once.
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(2);
    expect(k.vmFile.vm.vgic.isPending(PL031_INTID)).toBe(true);
    const second = k.proc.kvmRun(k.vcpu, (cpu) => {
      const intid = cpu.ack();
      k.proc.pwrite(k.device, word(1), 0x1c);
      cpu.eoi(intid);
      return [intid, cpu.ack()];
    });
    expect(second).toEqual([PL031_INTID, 1023]);
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(2);
    expect(k.proc.eventfdOf(k.trigger).warnings).toEqual([]);
  });

  it('without resamplefd the line stays masked after the EOI: the next alarm is lost until user space unmasks', async () => {
    const k = await kvmPl031({ resample: false });
    raiseAlarm(k);
    k.proc.kvmRun(k.vcpu, (cpu) => {
      const intid = cpu.ack();
      k.proc.pwrite(k.device, word(1), 0x1c);
      cpu.eoi(intid);
    });
    raiseAlarm(k);
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(1); // vfio still automasked: nothing new
    k.proc.eventfdWrite(k.unmask, 1); // the VMM's workaround: unmask from user space
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(2);
  });

  it("closing every VM fd releases the irqfds: TRIGGER is user space's again (kvm_irqfd_release)", async () => {
    const k = await kvmPl031();
    for (const fd of [k.vcpu, k.gic, k.vm]) k.proc.close(fd);
    // the KVM-VFIO device fd still holds the VM
    raiseAlarm(k);
    expect(k.proc.eventfdOf(k.trigger).readable).toBe(false);
    const fds = k.proc.openFds.filter((fd) => {
      const file = k.proc.fdget(fd);
      return 'kind' in file && file.kind === 'anon';
    });
    for (const fd of fds) k.proc.close(fd);
    k.proc.pwrite(k.device, word(1), 0x1c);
    k.proc.eventfdWrite(k.unmask, 1);
    raiseAlarm(k);
    expect(k.proc.eventfdOf(k.trigger).read()).toBe(1n);
  });

  it('KVM_RUN stand-in: ENOTTY on an fd that is not a vCPU', async () => {
    const k = await kvmPl031();
    expect(errnoOf(() => k.proc.kvmRun(k.vm, () => 0))).toBe('ENOTTY');
    expect(errnoOf(() => k.proc.ioctl(k.vm, K.KVM_IRQFD, kvmIrqfd(k.vm, 3)))).toBe('EINVAL');
  });
});

describe('edge through irqfd (no resamplefd): the device raises edges on a GIC line the tree makes edge', () => {
  it('each edge is one interrupt; two edges before the guest runs are one (the pending latch)', async () => {
    const k = await kvmPl031({ resample: false, edge: true });
    const info = new Uint8Array(16);
    new DataView(info.buffer).setUint32(0, 16, true);
    k.proc.ioctl(k.device, VFIO_DEVICE_GET_IRQ_INFO, info);
    expect(new DataView(info.buffer).getUint32(4, true)).toBe(1); // EVENTFD only: not automasked
    const take = () =>
      k.proc.kvmRun(k.vcpu, (cpu) => {
        const intid = cpu.ack();
        if (intid !== 1023) cpu.eoi(intid);
        return intid;
      });
    k.host.irqChip.chip.pulse(PL031_INTID);
    expect(k.proc.eventfdOf(k.trigger).readable).toBe(false);
    expect([take(), take()]).toEqual([PL031_INTID, 1023]);
    k.host.irqChip.chip.pulse(PL031_INTID);
    k.host.irqChip.chip.pulse(PL031_INTID);
    expect(k.vmFile.vm.stats.irqfdWakeups).toBe(3);
    expect([take(), take()]).toEqual([PL031_INTID, 1023]);
    expect(k.vmFile.vm.stats.resamples).toBe(0);
  });
});

describe('/dev/kvm on the host', () => {
  it('exists only when the tree shows KVM can run (GIC maintenance interrupt): not on plain virt', async () => {
    const plain = createHost(virtDtb());
    expect(plain.kvm.available).toBe(false);
    expect(plain.fs.list('/dev')).toEqual(['vfio']);
    expect(errnoOf(() => plain.spawn().open('/dev/kvm'))).toBe('ENOENT');
    const k = await kvmPl031();
    expect(k.host.kvm).toMatchObject({ available: true, gic: 3, vgicVersions: [3], ipaLimit: 44 });
    expect(k.host.fs.list('/dev')).toEqual(['kvm', 'vfio']);
  });
});
