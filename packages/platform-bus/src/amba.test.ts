import { KernelError, type MmioDevice } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ambaManf, ambaPart, ambaRev, CORESIGHT_CID, readPeriphid } from './amba-periphid.js';
import { modalias } from './bus-types.js';
import { DriverCore } from './driver-core.js';
import { causeOf, errnoOf } from './test-helpers.js';
import { pl330Device, primecellIdRegisters, recordingDriver, recordingMetaDriver } from './testing/index.js';

const PL330 = '121a0000.dma-controller';
const pl330Driver = () =>
  recordingDriver('dma-pl330', { ambaIdTable: [{ id: 0x00041330, mask: 0x000fffff }] });

/** amba_read_periphid's accesses and result, for any periphid and region size. */
const readsAsAmbaDoes = (read: typeof readPeriphid) =>
  fc.property(
    fc.integer({ min: 1, max: 0xffffffff }),
    fc.constantFrom(0x1000, 0x2000, 0x10000),
    (pid, size) => {
      const reads: number[] = [];
      const model = primecellIdRegisters(pid, size);
      const spy: MmioDevice = {
        ...model,
        read: (offset, width) => {
          reads.push(offset);
          return model.read(offset, width);
        },
      };
      expect(read(spy, size)).toBe(pid >>> 0);
      // Two loops in amba_read_periphid(): all of pid first, then all of cid, in order.
      expect(reads).toEqual([0, 4, 8, 12, 16, 20, 24, 28].map((o) => size - 0x20 + o));
    },
  );

describe('amba_read_periphid (drivers/amba/bus.c)', () => {
  it('reads PeriphID0..3 then PCellID0..3, the low byte of each word, for any region size', () => {
    fc.assert(readsAsAmbaDoes(readPeriphid));
  });

  it('the read-order property fails on planted bugs: CID before PID, bytes assembled big-endian', () => {
    const read = (device: MmioDevice | undefined, at: number): number => (device?.read(at, 4) ?? 0) & 0xff;
    const cidFirst: typeof readPeriphid = (device, size) => {
      for (let i = 0; i < 4; i++) read(device, size - 0x10 + i * 4);
      let pid = 0;
      for (let i = 0; i < 4; i++) pid |= read(device, size - 0x20 + i * 4) << (i * 8);
      return pid >>> 0;
    };
    const bigEndian: typeof readPeriphid = (device, size) => {
      let pid = 0;
      for (let i = 0; i < 4; i++) pid = ((pid << 8) | read(device, size - 0x20 + i * 4)) >>> 0;
      for (let i = 0; i < 4; i++) read(device, size - 0x10 + i * 4);
      return pid;
    };
    expect(fc.check(readsAsAmbaDoes(cidFirst)).failed).toBe(true);
    expect(fc.check(readsAsAmbaDoes(bigEndian)).failed).toBe(true);
  });

  it('keeps only the low byte of each ID word', () => {
    const model = primecellIdRegisters(0x00241330);
    // Registers whose upper 24 bits are junk: only `& 0xff` of each readl() counts.
    const noisy: MmioDevice = { ...model, read: (offset, width) => model.read(offset, width) | 0xabcdef00 };
    expect(readPeriphid(noisy, 0x1000)).toBe(0x00241330);
  });

  it('accepts the CoreSight cell id, refuses others (ENODEV), and defers without registers', () => {
    expect(readPeriphid(primecellIdRegisters(0x000bb906, 0x1000, CORESIGHT_CID), 0x1000)).toBe(0x000bb906);
    expect(errnoOf(() => readPeriphid(primecellIdRegisters(0x41330, 0x1000, 0x12345678), 0x1000))).toBe(
      'ENODEV',
    );
    expect(errnoOf(() => readPeriphid(undefined, 0x1000))).toBe('EPROBE_DEFER');
    expect(ambaPart(0x00241330)).toBe(0x330);
    expect(ambaManf(0x00241330)).toBe(0x41);
    expect(ambaRev(0x00241330)).toBe(2);
  });
});

describe('AMBA devices on the bus', () => {
  it('defers while the ID registers cannot be read, holds back the add uevent, then binds', () => {
    const core = new DriverCore();
    const adds: string[] = [];
    core.on('add', (e) => adds.push(e.modalias));
    const driver = pl330Driver();
    core.amba.registerDriver(driver);
    const device = core.amba.addDevice(pl330Device());
    expect(core.deferredDevices).toEqual([{ bus: 'amba', device: PL330 }]);
    expect(adds).toEqual([]);
    device.providePrimecellRegisters(primecellIdRegisters(0x00241330));
    // Making the registers readable does not reprobe by itself; the next trigger does.
    expect(device.driverName).toBeNull();
    core.triggerDeferredProbe();
    expect(device.driverName).toBe('dma-pl330');
    expect(adds).toEqual(['amba:d00241330']);
    expect(device.match?.ambaId).toEqual({ id: 0x00041330, mask: 0x000fffff });
    expect(core.sysfs.read(`/sys/bus/amba/devices/${PL330}/id`)).toBe('00241330\n');
  });

  it('retries a deferred AMBA device after a bind on the platform bus', () => {
    const core = new DriverCore();
    core.amba.registerDriver(pl330Driver());
    const device = core.amba.addDevice(pl330Device());
    device.providePrimecellRegisters(primecellIdRegisters(0x00241330));
    core.platform.registerDriver(recordingDriver('clk', { ofMatchTable: ['vendor,clock'] }));
    core.platform.addDevice({ name: 'clock', bus: 'platform', compatible: ['vendor,clock'] });
    expect(device.driverName).toBe('dma-pl330');
  });

  it('reads the ID at device add when it can, before any driver exists (amba_device_add)', () => {
    const core = new DriverCore();
    const adds: string[] = [];
    core.on('add', (e) => adds.push(`${e.device} ${e.modalias}`));
    const device = core.amba.addDevice(pl330Device(primecellIdRegisters(0x00241330)));
    expect(device.periphid).toBe(0x00241330);
    expect(adds).toEqual([`${PL330} amba:d00241330`]);
    expect(core.sysfs.read(`/sys/bus/amba/devices/${PL330}/id`)).toBe('00241330\n');
    // A device whose registers cannot be read yet is added with its uevents held back.
    const other = core.amba.addDevice({ ...pl330Device(), name: '121b0000.dma-controller' });
    expect(other.periphid).toBe(0);
    expect(adds).toHaveLength(1);
  });

  it('arm,primecell-periphid skips the register read', () => {
    const core = new DriverCore();
    core.amba.registerDriver(pl330Driver());
    const device = core.amba.addDevice({ ...pl330Device(), periphid: 0x00041330 });
    expect(device.driverName).toBe('dma-pl330');
    expect(modalias(device)).toBe('amba:d00041330');
  });

  it('reads the periphid before looking at driver_override, so an override does not skip the deferral', () => {
    const core = new DriverCore();
    core.amba.registerDriver(recordingMetaDriver('vfio-amba'));
    const device = core.amba.addDevice({ ...pl330Device(), driverOverride: 'vfio-amba' });
    expect(device.driverName).toBeNull();
    // amba_match() returns -EPROBE_DEFER; drivers_probe_store() reports it as -EINVAL.
    expect(errnoOf(() => core.amba.driversProbe(PL330))).toBe('EINVAL');
    expect(causeOf(() => core.amba.driversProbe(PL330))).toBe('EPROBE_DEFER');
    // sysfs bind still attempts the attach when the match defers (bind_store: match != 0).
    core.amba.bind('vfio-amba', PL330);
    expect(device.driverName).toBe('vfio-amba');
    expect(device.match).toEqual({ reason: 'sysfs_bind' });
  });

  it('a device with a bad cell id stays deferred (amba_match maps every read failure to EPROBE_DEFER)', () => {
    const core = new DriverCore();
    core.amba.registerDriver(pl330Driver());
    const device = core.amba.addDevice(pl330Device(primecellIdRegisters(0x41330, 0x1000, 0)));
    core.triggerDeferredProbe();
    expect(device.driverName).toBeNull();
    expect(device.periphid).toBe(0);
    expect(core.deferredDevices).toEqual([{ bus: 'amba', device: PL330 }]);
  });

  it('amba-proxy (amba_stub_drv_init): with no AMBA driver an unreadable device still defers, then announces itself', () => {
    const core = new DriverCore();
    const adds: string[] = [];
    core.on('add', (e) => adds.push(e.modalias));
    expect(core.amba.drivers.map((d) => d.name)).toEqual(['amba-proxy']);
    const device = core.amba.addDevice(pl330Device());
    expect(core.deferredDevices).toEqual([{ bus: 'amba', device: PL330 }]);
    expect(adds).toEqual([]);
    device.providePrimecellRegisters(primecellIdRegisters(0x00241330));
    core.triggerDeferredProbe();
    // amba_match() read the IDs for the stub and sent the held-back uevent; nothing bound.
    expect(adds).toEqual(['amba:d00241330']);
    expect(device.driverName).toBeNull();
    expect(core.deferredDevices).toEqual([]);
    // The stub matches nothing, even through its bind file; forced by override it refuses.
    expect(errnoOf(() => core.amba.bind('amba-proxy', PL330))).toBe('ENODEV');
    core.amba.setDriverOverride(PL330, 'amba-proxy');
    expect(errnoOf(() => core.amba.bind('amba-proxy', PL330))).toBe('ENODEV');
  });

  it('AMBA devices have id, resource and driver_override but no modalias file (amba_dev_attrs)', () => {
    const core = new DriverCore();
    core.amba.addDevice({ ...pl330Device(), primecell: primecellIdRegisters(0x00241330) });
    const dir = `/sys/bus/amba/devices/${PL330}`;
    expect(core.sysfs.list(dir)).toEqual(['driver_override', 'id', 'of_node', 'resource', 'subsystem']);
    expect(core.sysfs.exists(`${dir}/modalias`)).toBe(false);
    // The 2013 proposal's file is not Linux's: only on request.
    expect(core.sysfs.exists(`${dir}/sysfs_bind_only`)).toBe(false);
    expect(core.sysfs.read(`${dir}/resource`)).toBe(
      '\t00000000121a0000\t00000000121a0fff\t0000000000000200\n',
    );
  });

  it('without the stub (no CONFIG_MODULES) and no AMBA driver an unreadable device is not deferred', () => {
    const core = new DriverCore({ ambaStubDriver: false });
    const device = core.amba.addDevice(pl330Device());
    expect(core.deferredDevices).toEqual([]);
    expect(device.periphid).toBe(0);
    core.amba.registerDriver(
      recordingDriver('probe-fails', {
        ambaIdTable: [{ id: 0x41330, mask: 0xfffff }],
        verdict: () => new KernelError('EIO', 'x'),
      }),
    );
    expect(core.deferredDevices).toEqual([{ bus: 'amba', device: PL330 }]);
  });
});
