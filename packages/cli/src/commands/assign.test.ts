import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../test-support/run.js';
import { ASSIGN_EXIT_REFUSED } from './assign.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../../../shared/fixtures/dtb/${name}.dtb`, import.meta.url));
const JUNO = fixture('juno-r2');
const VIRT = fixture('qemu-virt-gicv2');
const MIDWAY = fixture('calxeda-midway');

describe('vfiokit assign FILE DEVICE', { timeout: 60_000 }, () => {
  it('crosvm, Juno PL330: every step, then the guest tree with the patched node and its pvIOMMU', async () => {
    const r = await run([
      'assign',
      JUNO,
      '7ff00000.dma-controller',
      '--vmm',
      'crosvm',
      '--reset-required',
      '0',
      '--allow-unsafe-interrupts',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(
      /^ 1\. driver_override +echo vfio-amba > \/sys\/bus\/amba\/devices\/7ff00000.dma-controller\/driver_override$/m,
    );
    expect(out).toMatch(/^ 8\. set_iommu +VFIO_SET_IOMMU VFIO_TYPE1v2_IOMMU$/m);
    expect(out).toMatch(/^14\. wire_irqs +IRQ 0 → irqfd GSI 4 \+ resamplefd/m);
    expect(out).toContain('\tdma-controller {\n');
    expect(out).toContain('compatible = "pkvm,pviommu";');
  });

  it('QEMU, Calxeda xgmac in no-IOMMU mode: the sysbus-fdt node under platform-bus@c000000', async () => {
    // The host has reset-modules' xgmac register model behind the device, so the upstream
    // Calxeda reset module (reset_required=1, the default) runs at open as it would on Linux.
    const base = ['assign', MIDWAY, 'fff51000.ethernet', '--enable-unsafe-noiommu-mode', '--kvm', '0'];
    const r = await run(base);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout.toString();
    expect(out).toMatch(/open_group +open \/dev\/vfio\/noiommu-0/);
    expect(out).toContain('fff51000.ethernet@0 {');
    expect(out).toContain('compatible = "qemu,platform\\0simple-bus";');
  });

  it('--json: steps and the guest DTS; Xen for the PL031 of QEMU virt', async () => {
    const r = await run([
      'assign',
      VIRT,
      '9010000.pl031',
      '--vmm',
      'xen',
      '--cmdline',
      'vfio.enable_unsafe_noiommu_mode=1',
      '--json',
    ]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j).toMatchObject({
      ok: true,
      device: '9010000.pl031',
      vmm: 'xen',
      driver: 'vfio-amba',
      hostDriver: 'rtc-pl031',
      backend: 'legacy',
      iommu: 'noiommu',
      kvm: false,
    });
    expect(j.steps).toHaveLength(15);
    expect(j.guest.dts).toContain('xen,force-assign-without-iommu;');
  });

  it('refused: exits 3 with the step and errno on one line (and as JSON with --json)', async () => {
    const r = await run([
      'assign',
      JUNO,
      '7ff00000.dma-controller',
      '--vmm',
      'crosvm',
      '--reset-required',
      '0',
    ]);
    expect(r.status).toBe(ASSIGN_EXIT_REFUSED);
    expect(r.stderr).toMatch(
      /^vfiokit: EPERM: assign 7ff00000.dma-controller: step set_iommu failed: .*allow_unsafe_interrupts.*\n$/,
    );
    const q = await run([
      'assign',
      JUNO,
      '7ff00000.dma-controller',
      '--vmm',
      'qemu',
      '--reset-required',
      '0',
      '--allow-unsafe-interrupts',
      '--json',
    ]);
    expect(q.status).toBe(ASSIGN_EXIT_REFUSED);
    expect(JSON.parse(q.stdout.toString())).toMatchObject({ ok: false, step: 'guest_node', errno: 'ENODEV' });
    const none = await run(['assign', VIRT, 'nope.device']);
    expect(none.status).toBe(ASSIGN_EXIT_REFUSED);
    expect(none.stderr).toMatch(/step driver_override failed: ENODEV/);
  });

  it('bad input is status 2 as for every command: a missing file, an unknown --vmm, an unknown --backend', async () => {
    expect((await run(['assign', '/nonexistent.dtb', 'x'])).status).toBe(2);
    expect((await run(['assign', VIRT, 'x', '--vmm', 'kvmtool'])).status).toBe(2);
    const bad = await run(['assign', VIRT, '9010000.pl031', '--backend', 'container']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.toString()).toMatch(/legacy, iommufd/);
  });

  it('--backend iommufd: /dev/iommu and the device cdev; JSON says the backend, the cdev, devid and IOAS', async () => {
    const r = await run([
      'assign',
      VIRT,
      '9010000.pl031',
      '--vmm',
      'crosvm',
      '--driver',
      'vfio-pl031',
      '--backend',
      'iommufd',
      '--json',
    ]);
    expect(r.stderr.toString()).toBe('');
    const j = JSON.parse(r.stdout.toString());
    expect(j).toMatchObject({
      ok: true,
      backend: 'iommufd',
      driver: 'vfio-pl031',
      iommu: 'iommufd',
      iommufd: { cdev: 'vfio0', devid: 1, ioasId: 2 },
    });
    expect(j.steps.map((s: { step: string }) => s.step)).toEqual([
      'driver_override',
      'unbind',
      'bind',
      'open_iommufd',
      'open_cdev',
      'kvm_vfio_add',
      'bind_iommufd',
      'ioas_alloc',
      'attach_ioas',
      'ioas_map',
      'device_info',
      'place',
      'map_regions',
      'wire_irqs',
      'guest_node',
    ]);
    const text = await run([
      'assign',
      VIRT,
      '9010000.pl031',
      '--vmm',
      'crosvm',
      '--driver',
      'vfio-pl031',
      '--backend',
      'iommufd',
    ]);
    expect(text.stdout.toString()).toMatch(/^ 5\. open_cdev +open \/dev\/vfio\/devices\/vfio0 = \d+$/m);
  });

  it("--backend iommufd refuses what the kernel refuses: Juno's PL330 (EPERM: iommufd's own allow_unsafe_interrupts), a no-IOMMU device (ENOENT: no cdev)", async () => {
    const juno = await run([
      'assign',
      JUNO,
      '7ff00000.dma-controller',
      '--vmm',
      'crosvm',
      '--reset-required',
      '0',
      '--allow-unsafe-interrupts',
      '--backend',
      'iommufd',
      '--json',
    ]);
    expect(juno.status).toBe(ASSIGN_EXIT_REFUSED);
    expect(JSON.parse(juno.stdout.toString())).toMatchObject({
      ok: false,
      backend: 'iommufd',
      step: 'bind_iommufd',
      errno: 'EPERM',
    });
    const noiommu = await run([
      'assign',
      VIRT,
      '9010000.pl031',
      '--enable-unsafe-noiommu-mode',
      '--backend',
      'iommufd',
    ]);
    expect(noiommu.status).toBe(ASSIGN_EXIT_REFUSED);
    expect(noiommu.stderr.toString()).toMatch(
      /step open_cdev failed: ENOENT: \/dev\/vfio\/devices\/vfio0 does not exist/,
    );
  });
});

describe('vfiokit release FILE DEVICE', { timeout: 60_000 }, () => {
  it('assigns, then hands the PL031 back to rtc-pl031', async () => {
    const r = await run([
      'release',
      VIRT,
      '9010000.pl031',
      '--vmm',
      'crosvm',
      '--enable-unsafe-noiommu-mode',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toMatch(
      /^released: 9010000.pl031 is with rtc-pl031 again \(was rtc-pl031\)$/m,
    );
  });

  it('--backend iommufd: assigns vfio-pl031 through the cdev, then hands it back to rtc-pl031', async () => {
    const r = await run([
      'release',
      VIRT,
      '9010000.pl031',
      '--vmm',
      'crosvm',
      '--driver',
      'vfio-pl031',
      '--backend',
      'iommufd',
      '--json',
    ]);
    expect(r.stderr.toString()).toBe('');
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      ok: true,
      backend: 'iommufd',
      released: true,
      driverAfterRelease: 'rtc-pl031',
    });
  });
});
