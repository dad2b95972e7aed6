import { KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';
import { Vm, type VmOptions } from '../vm/vm.js';

/**
 * A VM with an initialised vGIC, in KVM's order: KVM_CREATE_DEVICE, base addresses,
 * (NR_IRQS), KVM_DEV_ARM_VGIC_CTRL_INIT. Every vCPU's PMR is opened (0xff) and SPIs
 * `spis` (INTIDs) are enabled with the given trigger.
 */
export function initialisedVm(
  options: VmOptions & { readonly gic?: 2 | 3; readonly nrIrqs?: number } = {},
  spis: ReadonlyArray<{ intid: number; config: 'edge' | 'level' }> = [],
): Vm {
  const { gic = 3, nrIrqs, ...vmOptions } = options;
  const vm = new Vm(vmOptions);
  const dev = vm.createDevice(gic === 3 ? K.KVM_DEV_TYPE_ARM_VGIC_V3 : K.KVM_DEV_TYPE_ARM_VGIC_V2);
  if (gic === 3) {
    dev.setAttr({
      group: K.KVM_DEV_ARM_VGIC_GRP_ADDR,
      attr: K.KVM_VGIC_V3_ADDR_TYPE_DIST,
      value: 0x0800_0000,
    });
    dev.setAttr({
      group: K.KVM_DEV_ARM_VGIC_GRP_ADDR,
      attr: K.KVM_VGIC_V3_ADDR_TYPE_REDIST,
      value: 0x080a_0000,
    });
  } else {
    dev.setAttr({
      group: K.KVM_DEV_ARM_VGIC_GRP_ADDR,
      attr: K.KVM_VGIC_V2_ADDR_TYPE_DIST,
      value: 0x0800_0000,
    });
    dev.setAttr({
      group: K.KVM_DEV_ARM_VGIC_GRP_ADDR,
      attr: K.KVM_VGIC_V2_ADDR_TYPE_CPU,
      value: 0x0801_0000,
    });
  }
  if (nrIrqs !== undefined) dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: nrIrqs });
  dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT });
  for (let v = 0; v < vm.nrVcpus; v++) vm.vcpu(v).setPmr(0xff);
  for (const s of spis) {
    vm.vgic.setConfig(s.intid, s.config);
    vm.vgic.setEnabled(s.intid, true);
  }
  return vm;
}
