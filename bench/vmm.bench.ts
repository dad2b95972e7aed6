// Full assign/release cycles per second through @vfiokit/vmm on each path that works today:
// one host and one VM per path, then `cycles` × (assignDevice → releaseDevice) of one device.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createHost, type HostOptions } from '@vfiokit/host';
import { type AssignOptions, assignDevice, GuestVm, type GuestVmOptions, releaseDevice } from '@vfiokit/vmm';
import { printTable } from './measure.js';

const dtb = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../shared/fixtures/dtb/${name}.dtb`, import.meta.url)));

interface Path {
  readonly label: string;
  readonly tree: string;
  readonly host: HostOptions;
  readonly vm: GuestVmOptions;
  readonly device: string;
  readonly driver?: string;
  readonly backend?: 'legacy' | 'iommufd';
}

function optionsOf(path: Path): AssignOptions {
  return {
    ...(path.driver === undefined ? {} : { driver: path.driver }),
    ...(path.backend === undefined ? {} : { backend: path.backend }),
  };
}

const PATHS: readonly Path[] = [
  {
    label:
      'Juno PL330: vfio-amba, SMMU (MMU-401) type1v2, 16 MiB MAP_DMA, 9 level IRQs → KVM irqfd + resamplefd, crosvm DTBO + pvIOMMU',
    tree: 'juno-r2',
    host: { reset_required: false, allow_unsafe_interrupts: true },
    vm: { vmm: 'crosvm' },
    device: '7ff00000.dma-controller',
  },
  {
    label:
      'Juno PL330 on iommufd: /dev/iommu + cdev, BIND (iommufd.allow_unsafe_interrupts=1), IOAS_ALLOC, ATTACH_IOMMUFD_PT (auto-domain on the MMU-401), 16 MiB IOAS_MAP, same IRQs/KVM/DTBO',
    tree: 'juno-r2',
    host: {
      reset_required: false,
      allow_unsafe_interrupts: true,
      cmdline: 'iommufd.allow_unsafe_interrupts=1',
    },
    vm: { vmm: 'crosvm' },
    device: '7ff00000.dma-controller',
    backend: 'iommufd',
  },
  {
    label:
      'QEMU virt PL031: rtc-pl031 → vfio-amba and back, no-IOMMU, eventfds (no KVM in the tree), Xen partial DT',
    tree: 'qemu-virt-gicv2',
    host: { enable_unsafe_noiommu_mode: true },
    vm: { vmm: 'xen' },
    device: '9010000.pl031',
  },
  {
    label:
      'QEMU virt PL031: vfio-pl031 emulated IOMMU (type1v2 on the emulated group), eventfds, crosvm DTBO',
    tree: 'qemu-virt-gicv2',
    host: {},
    vm: { vmm: 'crosvm' },
    device: '9010000.pl031',
    driver: 'vfio-pl031',
  },
  {
    label:
      'QEMU virt PL031: vfio-pl031 emulated on iommufd (BIND → iommufd_access, ATTACH to the IOAS, IOAS_MAP), eventfds, crosvm DTBO',
    tree: 'qemu-virt-gicv2',
    host: {},
    vm: { vmm: 'crosvm' },
    device: '9010000.pl031',
    driver: 'vfio-pl031',
    backend: 'iommufd',
  },
  {
    label: 'Calxeda midway xgmac: vfio-platform, no-IOMMU, 3 IRQs, QEMU sysbus-fdt node',
    tree: 'calxeda-midway',
    host: { enable_unsafe_noiommu_mode: true, reset_required: false },
    vm: { vmm: 'qemu' },
    device: 'fff51000.ethernet',
  },
];

async function cyclesPerSecond(path: Path, cycles: number): Promise<string> {
  const host = createHost(dtb(path.tree), path.host);
  const vm = GuestVm.create(host, path.vm);
  const options = optionsOf(path);
  try {
    await releaseDevice(await assignDevice(host, vm, path.device, options)); // warm-up
  } catch (error) {
    return `fails: ${error instanceof Error ? error.message : String(error)}`;
  }
  const times: number[] = [];
  let done = 1;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    for (let i = 0; i < cycles; i++) {
      try {
        await releaseDevice(await assignDevice(host, vm, path.device, options));
      } catch (error) {
        // Reported, not hidden: a resource that a release does not give back shows up here.
        return `fails at cycle ${done + 1}: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}`;
      }
      done++;
    }
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const ms = times[1] ?? 0;
  return `${((cycles / ms) * 1000).toFixed(0)} cycles/s (${(ms / cycles).toFixed(2)} ms each)`;
}

// The Juno path with a new host and VM per cycle (boot included).
async function freshHostCycles(path: Path, cycles: number): Promise<string> {
  const start = performance.now();
  for (let i = 0; i < cycles; i++) {
    const host = createHost(dtb(path.tree), path.host);
    const vm = GuestVm.create(host, path.vm);
    await releaseDevice(await assignDevice(host, vm, path.device));
  }
  const ms = performance.now() - start;
  return `${((cycles / ms) * 1000).toFixed(1)} cycles/s (${(ms / cycles).toFixed(1)} ms each, host boot included)`;
}

export default async function run(): Promise<void> {
  const rows: string[][] = [];
  const juno = PATHS[0] as Path;
  for (const path of PATHS)
    rows.push([path.label, await cyclesPerSecond(path, path.tree === 'juno-r2' ? 30 : 100)]);
  // 600 cycles on one host: type1 frees its domain at release (iommu_domain_free), so the
  // MMU-401's 128 context banks never run out; a leak would show as "fails at cycle N".
  rows.push([`${juno.label}; 600 cycles on one host`, await cyclesPerSecond(juno, 200)]);
  // The same on iommufd: the auto-domain HWPT goes with the last detach (iommufd_hw_pagetable
  // destroy → iommu_domain_free), so the context banks come back here too.
  const junoIommufd = PATHS[1] as Path;
  rows.push([`${junoIommufd.label}; 600 cycles on one host`, await cyclesPerSecond(junoIommufd, 200)]);
  rows.push([`${juno.label}; a new host + VM per cycle`, await freshHostCycles(juno, 10)]);
  printTable(['path (assignDevice + releaseDevice)', 'rate'], rows);
}
