import { isKernelError } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KVM_UAPI_CONSTANTS as K } from './constants.js';
import { decodeIrqLine, encodeIrqLine } from './irq-line.js';
import { decodeKvmStruct, encodeKvmStruct } from './struct.js';

describe('KVM_IRQ_LINE irq field (arch/arm64/kvm/arm.c kvm_vm_ioctl_irq_line)', () => {
  it('encodes an SPI as type 1 with the INTID in irq_id (Documentation/virt/kvm/api.rst)', () => {
    expect(encodeIrqLine({ type: 'spi', irqId: 32 + 5 })).toBe(0x0100_0025);
    expect(encodeIrqLine({ type: 'ppi', irqId: 27, vcpu: 3 })).toBe(0x0203_001b);
  });

  it('puts vCPU ids above 255 in vcpu2_index (KVM_CAP_ARM_IRQ_LINE_LAYOUT_2)', () => {
    const irq = encodeIrqLine({ type: 'ppi', irqId: 16, vcpu: 0x1ff });
    expect(irq).toBe(0x12ff_0010);
    expect(decodeIrqLine(irq)).toEqual({
      vcpu2Index: 1,
      irqType: 2,
      vcpuIndex: 0xff,
      irqId: 16,
      vcpu: 0x1ff,
    });
  });

  it('decodes the raw type even when the ioctl would refuse it (type 3 → EINVAL there)', () => {
    expect(decodeIrqLine(0x0300_0001).irqType).toBe(3);
  });

  it('refuses fields that do not fit (EINVAL)', () => {
    expect(() => encodeIrqLine({ type: 'spi', irqId: 0x1_0000 })).toThrow(/EINVAL/);
    expect(() => encodeIrqLine({ type: 'ppi', irqId: 16, vcpu: 4096 })).toThrow(/EINVAL/);
    expect(() => decodeIrqLine(-1)).toThrow(/EINVAL/);
  });

  it('property: decode ∘ encode is the identity and matches the shifts/masks of the header', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('cpu' as const, 'spi' as const, 'ppi' as const),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 4095 }),
        (type, irqId, vcpu) => {
          const irq = encodeIrqLine({ type, irqId, vcpu });
          const d = decodeIrqLine(irq);
          expect([d.irqId, d.vcpu]).toEqual([irqId, vcpu]);
          expect(d.irqType).toBe(
            { cpu: K.KVM_ARM_IRQ_TYPE_CPU, spi: K.KVM_ARM_IRQ_TYPE_SPI, ppi: K.KVM_ARM_IRQ_TYPE_PPI }[type],
          );
          expect(irq >>> 28).toBe(vcpu >>> 8);
        },
      ),
    );
  });
});

describe('struct codecs (little-endian, layouts checked against the header by c-header.test.ts)', () => {
  it('kvm_irqfd: fd, gsi, flags, resamplefd, 16 bytes of padding', () => {
    const bytes = encodeKvmStruct('kvm_irqfd', {
      fd: 5,
      gsi: 3,
      flags: K.KVM_IRQFD_FLAG_RESAMPLE,
      resamplefd: 6,
    });
    expect([...bytes.subarray(0, 16)]).toEqual([5, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0]);
    expect(bytes.length).toBe(32);
    expect(decodeKvmStruct('kvm_irqfd', bytes)).toEqual({ fd: 5, gsi: 3, flags: 2, resamplefd: 6 });
  });

  it('kvm_irq_routing_entry: the union members share bytes at offset 16', () => {
    const bytes = encodeKvmStruct('kvm_irq_routing_entry', {
      gsi: 9,
      type: K.KVM_IRQ_ROUTING_MSI,
      flags: K.KVM_MSI_VALID_DEVID,
      'u.msi.address_lo': 0x0804_0040,
      'u.msi.data': 7,
      'u.msi.devid': 0x10,
    });
    const d = decodeKvmStruct('kvm_irq_routing_entry', bytes);
    expect(d['u.irqchip.irqchip']).toBe(0x0804_0040);
    expect(d['u.msi.pad']).toBe(0x10);
  });

  it('kvm_device_attr carries 64-bit attr/addr as bigints; kvm_irq_level.status is signed', () => {
    const bytes = encodeKvmStruct('kvm_device_attr', { group: 4, attr: 0n, addr: 0xffff_0000_1234n });
    expect(decodeKvmStruct('kvm_device_attr', bytes).addr).toBe(0xffff_0000_1234n);
    expect(
      decodeKvmStruct('kvm_irq_level', encodeKvmStruct('kvm_irq_level', { irq: 0xffff_fff2 })).status,
    ).toBe(-14);
  });

  it('refuses unknown members, values that do not fit and short buffers', () => {
    expect(() => encodeKvmStruct('kvm_irqfd', { vcpu: 1 })).toThrow(/EINVAL/);
    expect(() => encodeKvmStruct('kvm_irqfd', { gsi: 2 ** 32 })).toThrow(/EINVAL/);
    try {
      decodeKvmStruct('kvm_irqfd', new Uint8Array(31));
      expect.unreachable();
    } catch (e) {
      expect(isKernelError(e, 'EFAULT')).toBe(true);
    }
  });
});

describe('ioctl numbers', () => {
  it('are _IOW/_IOWR(KVMIO, nr, sizeof(struct)) (include/uapi/asm-generic/ioctl.h)', async () => {
    const { ioc, IOC_READ, IOC_WRITE, KVMIO } = await import('./constants.js');
    const { KVM_UAPI_STRUCTS: S } = await import('./struct.js');
    expect(K.KVM_IRQ_LINE).toBe(ioc(IOC_WRITE, KVMIO, 0x61, S.kvm_irq_level.size));
    expect(K.KVM_IRQFD).toBe(ioc(IOC_WRITE, KVMIO, 0x76, S.kvm_irqfd.size));
    expect(K.KVM_SET_GSI_ROUTING).toBe(ioc(IOC_WRITE, KVMIO, 0x6a, S.kvm_irq_routing.size));
    expect(K.KVM_CREATE_DEVICE).toBe(ioc(IOC_READ | IOC_WRITE, KVMIO, 0xe0, S.kvm_create_device.size));
    expect(K.KVM_SET_DEVICE_ATTR).toBe(ioc(IOC_WRITE, KVMIO, 0xe1, S.kvm_device_attr.size));
    expect(K.KVM_SET_USER_MEMORY_REGION).toBe(
      ioc(IOC_WRITE, KVMIO, 0x46, S.kvm_userspace_memory_region.size),
    );
  });
});

describe('KVM_SET_GSI_ROUTING argument (struct kvm_irq_routing + entries[])', () => {
  it('round-trips IRQCHIP, MSI and other entries at 8 + 48 × i', async () => {
    const { decodeGsiRouting, encodeGsiRouting } = await import('./routing-codec.js');
    const entries = [
      { gsi: 1, type: K.KVM_IRQ_ROUTING_IRQCHIP, flags: 0, irqchip: 0, pin: 7 },
      {
        gsi: 2,
        type: K.KVM_IRQ_ROUTING_MSI,
        flags: 1,
        addressLo: 0x0808_0040,
        addressHi: 0,
        data: 3,
        devid: 0x10,
      },
      { gsi: 3, type: 4, flags: 0 },
    ] as const;
    const bytes = encodeGsiRouting(entries);
    expect(bytes.length).toBe(8 + 3 * 48);
    expect(new DataView(bytes.buffer).getUint32(8 + 48 + 16 + 12, true)).toBe(0x10); // u.msi.devid
    expect(decodeGsiRouting(bytes)).toEqual({ entries, flags: 0 });
    expect(() => decodeGsiRouting(bytes.subarray(0, 100))).toThrow(/EFAULT/);
  });
});
