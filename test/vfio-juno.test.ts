import { readFileSync } from 'node:fs';
import {
  IommuGroupIda,
  type Iova,
  isIommuFault,
  PhysicalMemory,
  physAddr,
  toSafeNumber,
} from '@vfiokit/core';
import { OfTree, parseFdt, populateDevices } from '@vfiokit/devicetree';
import { DriverCore } from '@vfiokit/platform-bus';
import {
  assemblePl330,
  type Pl330Instruction,
  Pl330Model,
  pl330Ccr,
  pl330ResetModule,
  ResetRegistry,
} from '@vfiokit/reset-modules';
import {
  ArmSmmuV2,
  OfSmmus,
  SmmuDmaPort,
  SmmuDriverDomain,
  smmuV2Regs,
  TablePageAllocator,
} from '@vfiokit/smmu';
import {
  type IrqTriggerType,
  SimpleIrqChip,
  UserProcess,
  VFIO_AMBA_DEPRECATION,
  Vfio,
  VfioContainerHandle,
  VfioGroupHandle,
  vfioAmbaDriver,
  vfioMetaDriverData,
} from '@vfiokit/vfio';
import {
  VFIO_DEVICE_FLAGS_AMBA,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  VFIO_TYPE1v2_IOMMU,
} from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';

// The scripted VMM run of issue 6 on the Juno r2 device tree (Linux v7.1 juno-r2.dts):
// container → group → EPERM at attach without allow_unsafe_interrupts → success with it →
// TYPE1v2 → map 1 GiB of guest RAM → the PL330 (dma-controller@7ff00000, behind
// /iommu@7fb00000 with stream IDs 0–8) through vfio-amba → info, regions, IRQs → close →
// the PL330 reset ran. The IOMMU is @vfiokit/smmu's: the arm-smmu driver probes the Juno's
// MMU-401s and forms the groups, type1 maps through the driver's io-pgtable-arm domain, and the
// PL330's master port is translated by the MMU-401 model walking those tables.

const DTB = new URL('../../shared/fixtures/dtb/juno-r2.dtb', import.meta.url);
const GUEST_RAM_VADDR = 0x7f00_0000_0000;
const GUEST_RAM_PHYS = 0x8_8000_0000;
const GIB = 0x4000_0000;
const PL330_SMMU = '7fb00000.iommu';

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? 'not a KernelError';
  }
  return 'no error';
}

function junoHost() {
  // --- the host: parse, populate, the SMMUs and their drivers, then the PL330 ---
  const tree = parseFdt(new Uint8Array(readFileSync(DTB)));
  const devices = populateDevices(tree);
  const dt = devices.find((d) => d.path === '/dma-controller@7ff00000');
  if (dt === undefined) throw new RangeError('no PL330 in the Juno device tree');
  expect(dt.bus).toBe('amba');
  expect(dt.compatible).toEqual(['arm,pl330', 'arm,primecell']);
  expect(dt.iommus.map((l) => l.target)).toEqual(Array(9).fill('/iommu@7fb00000'));
  const streamIds = dt.iommus.map((l) => l.args[0] ?? -1);
  expect(streamIds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);

  const core = new DriverCore();
  const ownership = core.iommuOwnership;
  if (ownership === undefined) throw new RangeError('driver core without an ownership book');
  const memory = new PhysicalMemory();
  memory.allocate(physAddr(GUEST_RAM_PHYS), GIB);
  // The kernel's pages for page tables: 32 MiB of Juno's first DRAM bank.
  const allocator = new TablePageAllocator({ memory, base: physAddr(0x8400_0000), size: 0x200_0000 });
  // One IDA for the SMMU groups and vfio's fake groups.
  const groupIds = new IommuGroupIda();
  const log: string[] = [];
  const smmus = new OfSmmus({
    tree: OfTree.of(tree),
    devices,
    memory,
    allocator,
    groupIds,
    ownership,
    onGroupChange: (name, group) => {
      const device = core.findDevice(name);
      if (device !== undefined) device.iommuGroup = group?.id;
    },
    log: (line) => log.push(line),
  });
  const smmu = smmus.models.get(PL330_SMMU);
  if (!(smmu instanceof ArmSmmuV2)) throw new RangeError('no MMU-401 model for the PL330');
  // The controller's master port: every access translated by the MMU-401 (stream ID 0: the
  // model has one AXI master, the manager's and channels' traffic carry the same ID).
  const pl330 = new Pl330Model({ dma: new SmmuDmaPort({ smmu, streamId: 0, memory }) });
  const lines: Record<number, IrqTriggerType> = {};
  for (const irq of dt.irqs) {
    if (irq.intid === undefined || irq.trigger === undefined || irq.trigger === 'none')
      throw new RangeError('bad IRQ');
    lines[irq.intid] = irq.trigger;
  }
  const irqChip = new SimpleIrqChip(lines);
  // The PL330 module is vfiokit's own: the registry opts in (upstream Linux has none).
  const resets = new ResetRegistry({ mode: 'vfiokit' });
  resets.register(pl330ResetModule);
  const vfio = new Vfio({ allowUnsafeInterrupts: false, iommuGroupIds: groupIds });
  const region = dt.regions[0];
  if (region === undefined) throw new RangeError('PL330 without reg');
  core.amba.addDevice({
    name: dt.name,
    bus: 'amba',
    ofNode: dt.path,
    compatible: dt.compatible,
    regions: [{ start: physAddr(toSafeNumber(region.address)), size: toSafeNumber(region.size) }],
    irqs: dt.irqs.map((i) => i.intid ?? 0),
    primecell: pl330,
  });
  // The SMMUs (platform devices) and arm-smmu, which binds them and forms the groups.
  for (const d of devices) {
    if (!smmus.models.has(d.name)) continue;
    core.platform.addDevice({
      name: d.name,
      bus: 'platform',
      ofNode: d.path,
      compatible: d.compatible,
      regions: d.regions.map((r) => ({
        start: physAddr(toSafeNumber(r.address)),
        size: toSafeNumber(r.size),
      })),
    });
  }
  for (const spec of smmus.drivers) core.platform.registerDriver(spec);
  const iommuGroup = smmus.groupOf(dt.name);
  if (iommuGroup === undefined) throw new RangeError('the PL330 got no IOMMU group');
  core.amba.registerDriver(
    vfioAmbaDriver({
      vfio,
      resets,
      irqChip,
      iommuGroupOf: (d) => smmus.groupOf(d.name),
      mmio: () => pl330,
      delay: (us) => pl330.tick(us),
      log: (line) => log.push(line),
    }),
  );
  // The admin hands the device to vfio-amba: driver_override, then drivers_probe.
  core.amba.setDriverOverride(dt.name, 'vfio-amba');
  void core.amba.driversProbe(dt.name);
  const device = core.amba.device(dt.name);
  expect(device?.driverName).toBe('vfio-amba');
  expect(device?.iommuGroup).toBe(iommuGroup.id);
  const bound = device === undefined ? undefined : vfioMetaDriverData(device);
  const instance = smmus.armSmmu.instance('/iommu@7fb00000');
  if (instance === undefined) throw new RangeError('arm-smmu did not probe the MMU-401');
  return {
    dt,
    streamIds,
    core,
    smmus,
    smmu,
    instance,
    iommuGroup,
    allocator,
    memory,
    pl330,
    irqChip,
    resets,
    vfio,
    log,
    device,
    bound,
  };
}

describe('VFIO on Juno r2: the PL330 through vfio-amba', () => {
  it('runs the scripted VMM flow', () => {
    const { dt, streamIds, core, smmu, iommuGroup, allocator, irqChip, resets, vfio, log, bound } =
      junoHost();
    // Groups in SMMU probe order: the ETR's (iommu@2b600000) is 0, the PL330's 1.
    expect(iommuGroup.id).toBe(1);
    expect(iommuGroup.iommu).toBe('/iommu@7fb00000');
    // "vfio/amba: Mark for removal" (v6.18): dev_err_once in vfio_amba_probe, and as data.
    expect(log).toContain(`vfio-amba ${dt.name}: ${VFIO_AMBA_DEPRECATION}`);
    expect(bound?.deprecation).toBe(VFIO_AMBA_DEPRECATION);
    expect(bound?.registration).toBe('iommu');
    expect(bound?.platformDevice.resetReport.provider).toBe('reset-module');

    // --- the VMM ---
    const vmm = new UserProcess({ vfio, rlimitMemlock: 2 * GIB });
    vmm.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(GUEST_RAM_PHYS), GIB);
    const container = VfioContainerHandle.open(vmm);
    expect(container.apiVersion()).toBe(0);
    expect(container.checkExtension(VFIO_TYPE1v2_IOMMU)).toBe(true);
    const group = VfioGroupHandle.open(vmm, iommuGroup.id);
    expect(group.status()).toEqual({ viable: true, containerSet: false });
    group.setContainer(container);
    expect(group.status()).toEqual({ viable: true, containerSet: true });

    // No MSI parent on the PL330: not isolated (v6.3+), so type1 refuses without the parameter.
    expect(errno(() => container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('EPERM');
    vfio.params.allowUnsafeInterrupts = true;
    container.setIommu(VFIO_TYPE1v2_IOMMU);

    const info = container.iommuInfo();
    // arm-smmu on the MMU-401 (ARM_SMMU_V1_64K) picks the AArch64 format on a 64-bit kernel
    // (arm_smmu_init_domain_context): the aperture is ID2.IAS (48 bits in the model), minus the
    // software MSI window (arm_smmu_get_resv_regions).
    expect(info.iovaRanges).toEqual([
      { start: 0n, end: 0x7ff_ffffn },
      { start: 0x810_0000n, end: 2n ** 48n - 1n },
    ]);
    expect(errno(() => container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x800_0000, size: 0x1000 }))).toBe(
      'EINVAL',
    );
    container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x8000_0000, size: GIB });
    expect(vmm.mm.lockedVm).toBe(GIB / 0x1000);
    expect(container.iommuInfo().dmaAvail).toBe(65534);
    const domain = iommuGroup.domain;
    expect(domain).toBeInstanceOf(SmmuDriverDomain);
    expect(domain?.endpoints).toEqual([{ device: dt.name, streamIds }]);
    expect(domain?.translate((0x8000_0000 + 0x1234) as Iova, 'write')).toBe(GUEST_RAM_PHYS + 0x1234);
    const outside = domain?.translate((0x8000_0000 + GIB) as Iova, 'read');
    expect(outside !== undefined && isIommuFault(outside)).toBe(true);
    // The kernel's page tables are in memory, and the MMU-401 walks them for every stream ID.
    expect(allocator.liveAllocations).toBeGreaterThan(0);
    for (const sid of streamIds)
      expect(smmu.translate(sid, (0x8000_0000 + 0x1234) as Iova, 'read')).toBe(GUEST_RAM_PHYS + 0x1234);
    // The group's stream map entries point at the bank of type1's domain.
    const bank = (domain as SmmuDriverDomain).context;
    const valid = [...Array(128).keys()].filter(
      (i) => (smmu.read(smmuV2Regs.GR0_SMR_BASE + 4 * i, 4) & smmuV2Regs.SMR_VALID) !== 0,
    );
    expect(valid.map((i) => smmu.read(smmuV2Regs.GR0_S2CR_BASE + 4 * i, 4) & 0xff)).toEqual(
      Array(9).fill(bank),
    );

    // --- the device fd ---
    const handle = group.getDevice(dt.name);
    expect(bound?.platformDevice.events).toEqual(['reset', 'open']);
    expect(handle.info()).toEqual({
      flags: VFIO_DEVICE_FLAGS_AMBA | VFIO_DEVICE_FLAGS_RESET,
      numRegions: 1,
      numIrqs: 9,
    });
    const r0 = handle.regionInfo(0);
    expect(r0).toEqual({
      index: 0,
      flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP,
      size: 0x1000,
      offset: 0,
    });
    expect(errno(() => handle.regionInfo(1))).toBe('EINVAL');
    // The PrimeCell ID registers read through the region: CID 0xb105f00d.
    const cid = new Uint8Array(16);
    expect(handle.read(r0, 0xff0, cid)).toBe(16);
    expect([cid[0], cid[4], cid[8], cid[12]]).toEqual([0x0d, 0xf0, 0x05, 0xb1]);
    expect(
      handle.mmap({ start: 0x7e00_0000, length: 0x1000, offset: 0, read: true, write: true, shared: true })
        .paddr,
    ).toBe(0x7ff0_0000);
    // Through the mapping the VMM reads the PrimeCell ID the pread saw.
    expect(vmm.load(0x7e00_0ff0, 4)).toBe(0x0d);
    for (let i = 0; i < 9; i++) {
      expect(handle.irqInfo(i)).toEqual({
        index: i,
        flags: VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
        count: 1,
      });
    }
    expect(errno(() => handle.irqInfo(9))).toBe('EINVAL');

    // --- close: the last close resets the PL330; the group can then leave the container ---
    // The mapping holds the device file (vm_file): the release waits for munmap.
    handle.close();
    expect(bound?.platformDevice.events).toEqual(['reset', 'open']);
    vmm.munmap(0x7e00_0000, 0x1000);
    expect(bound?.platformDevice.events).toEqual(['reset', 'open', 'reset', 'close']);
    expect(irqChip.hasHandler(dt.irqs[0]?.intid ?? -1)).toBe(false);
    expect(container.unmapDma({ all: true })).toBe(BigInt(GIB));
    expect(vmm.mm.lockedVm).toBe(0);
    group.unsetContainer();
    expect(iommuGroup.owner).toBeNull();
    // Released: back on the default DMA domain.
    expect(iommuGroup.currentDomain).toBe(iommuGroup.defaultDomain);
    expect(core.amba.unbind('vfio-amba', dt.name)).toBeUndefined();
    expect(resets.usersOf(pl330ResetModule.owner)).toBe(0);
  });
});

// pl330.c `_trigger` / `_execute_DBGINST`: DMAGO for a channel goes through the debug
// registers DBGINST0 (0xd08), DBGINST1 (0xd0c) and DBGCMD (0xd04).
const DBGCMD = 0xd04;
const DBGINST0 = 0xd08;
const DBGINST1 = 0xd0c;
const CMD_DMAGO = 0xa0;

describe('VFIO on Juno r2: guest-programmed PL330 DMA', () => {
  it('goes through the SMMU domain VFIO mapped, faults outside it, and the close reset stops a runaway channel', () => {
    const host = junoHost();
    host.vfio.params.allowUnsafeInterrupts = true;
    const vmm = new UserProcess({ vfio: host.vfio, rlimitMemlock: 2 * GIB });
    vmm.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(GUEST_RAM_PHYS), GIB);
    const container = VfioContainerHandle.open(vmm);
    const group = VfioGroupHandle.open(vmm, host.iommuGroup.id);
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const GUEST_RAM_IOVA = 0x8000_0000;
    container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: GUEST_RAM_IOVA, size: GIB });
    const handle = group.getDevice(host.dt.name);
    const regs = handle.regionInfo(0);
    const write32 = (offset: number, value: number): void => {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
      expect(handle.write(regs, offset, bytes)).toBe(4);
    };
    const dmaGo = (channel: number, program: number): void => {
      write32(DBGINST0, (channel << 24) | ((CMD_DMAGO | 2) << 16));
      write32(DBGINST1, program);
      write32(DBGCMD, 0);
    };
    const load = (iova: number, program: Pl330Instruction[]): void => {
      host.memory.write(physAddr(GUEST_RAM_PHYS + (iova - GUEST_RAM_IOVA)), assemblePl330(program));
    };
    const ccr = pl330Ccr({ burstBytes: 4, burstLength: 4, increment: true });

    // A 256-byte copy inside guest RAM, addressed by IOVA.
    const source = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff);
    host.memory.write(physAddr(GUEST_RAM_PHYS + 0x2000), source);
    const body: Pl330Instruction[] = [{ op: 'LD' }, { op: 'ST' }];
    load(GUEST_RAM_IOVA + 0x1000, [
      { op: 'MOV', reg: 'SAR', value: GUEST_RAM_IOVA + 0x2000 },
      { op: 'MOV', reg: 'DAR', value: GUEST_RAM_IOVA + 0x3000 },
      { op: 'MOV', reg: 'CCR', value: ccr },
      { op: 'LP', counter: 0, iterations: 16 },
      ...body,
      { op: 'LPEND', counter: 0, backwardJump: assemblePl330(body).length },
      { op: 'END' },
    ]);
    dmaGo(0, GUEST_RAM_IOVA + 0x1000);
    host.pl330.tick(1000);
    const copied = new Uint8Array(256);
    host.memory.read(physAddr(GUEST_RAM_PHYS + 0x3000), copied);
    expect([...copied]).toEqual([...source]);

    // A source outside every VFIO mapping: the SMMU refuses it and the channel faults.
    load(GUEST_RAM_IOVA + 0x1200, [
      { op: 'MOV', reg: 'SAR', value: 0x4000_0000 },
      { op: 'MOV', reg: 'DAR', value: GUEST_RAM_IOVA + 0x3000 },
      { op: 'MOV', reg: 'CCR', value: ccr },
      { op: 'LD' },
      { op: 'END' },
    ]);
    dmaGo(1, GUEST_RAM_IOVA + 0x1200);
    host.pl330.tick(100);
    expect(host.pl330.channelFault(1)?.kind).toBe('translation');
    // …as a context fault the MMU-401 recorded (FSR.TF, FAR) and the arm-smmu handler reported.
    const bank = (host.iommuGroup.domain as SmmuDriverDomain).context;
    expect(host.instance.faults).toEqual([
      expect.objectContaining({ contextBank: bank, fsr: smmuV2Regs.FSR_TF, far: 0x4000_0000 }),
    ]);
    expect(host.log.some((line) => /Unhandled context fault: fsr=0x2, iova=0x40000000/.test(line))).toBe(
      true,
    );

    // A loop without end keeps channel 2 busy until the reset at the last close kills it.
    load(GUEST_RAM_IOVA + 0x1400, [
      { op: 'LP', counter: 0, iterations: 1 },
      { op: 'NOP' },
      { op: 'LPEND', counter: 0, backwardJump: 1, forever: true },
      { op: 'END' },
    ]);
    dmaGo(2, GUEST_RAM_IOVA + 0x1400);
    host.pl330.tick(100);
    expect(host.pl330.dmaActive()).toBe(true);
    handle.close();
    expect(host.bound?.platformDevice.events.at(-2)).toBe('reset');
    expect(host.pl330.dmaActive()).toBe(false);
  });
});
