import { Vfio } from '@vfiokit/vfio';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MTTYS, mttyParent } from '../mtty/mtty.js';
import { kstrtoul, MdevBus } from './mdev-bus.js';

const U1 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
const U2 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1002';

function setup(): { bus: MdevBus; mtty: ReturnType<typeof mttyParent>; vfio: Vfio } {
  const vfio = new Vfio();
  const mtty = mttyParent({ vfio });
  const bus = new MdevBus();
  bus.registerParent(mtty.spec);
  return { bus, mtty, vfio };
}

const err = (code: string): unknown => expect.objectContaining({ code });

describe('MdevBus (drivers/vfio/mdev/mdev_core.c, mdev_sysfs.c) with mtty', () => {
  it('lists the parent and its types as <driver>-<sysfs_name>', () => {
    const { bus } = setup();
    expect(bus.parentNames()).toEqual(['mtty']);
    expect(bus.typeNames('mtty')).toEqual(['mtty-1', 'mtty-2']);
    expect(bus.type('mtty', 'mtty-1')?.prettyName).toBe('Single port serial');
    expect(() => bus.registerParent(setup().mtty.spec)).toThrow(err('EEXIST'));
  });

  it('create_store: 36 or 37 bytes, else EINVAL; a 37th byte is ignored', () => {
    const { bus } = setup();
    expect(() => bus.create('mtty', 'mtty-1', U1.slice(0, 35))).toThrow(err('EINVAL'));
    expect(() => bus.create('mtty', 'mtty-1', `${U1}\n\n`)).toThrow(err('EINVAL'));
    expect(bus.create('mtty', 'mtty-1', `${U1}x`)).toBe(37);
    expect(bus.list().map((d) => d.uuid)).toEqual([U1]);
  });

  it('mdev_device_create: a UUID in use (any case, any type) is EEXIST', () => {
    const { bus } = setup();
    bus.create('mtty', 'mtty-1', U1);
    expect(() => bus.create('mtty', 'mtty-2', U1.toUpperCase())).toThrow(err('EEXIST'));
    expect(() => bus.create('mtty', 'mtty-3', U2)).toThrow(err('ENOENT'));
  });

  it('mtty registers each device on the emulated path: its own group, no taint', () => {
    const { bus, vfio } = setup();
    bus.create('mtty', 'mtty-2', U1);
    bus.create('mtty', 'mtty-1', U2);
    expect([...vfio.groups.keys()]).toEqual(['0', '1']);
    expect(vfio.groups.get('0')?.kind).toBe('emulated');
    expect(vfio.fakeIommuGroups.get(1)).toEqual({ id: 1, name: 'vfio-noiommu', devices: [U2] });
    expect(vfio.taint).toBe(0);
  });

  it('mtty_init_dev: ENOSPC once the 24 ports are taken; the device is not created', () => {
    const { bus } = setup();
    for (let i = 0; i < 12; i++)
      bus.create('mtty', 'mtty-2', `00000000-0000-0000-0000-0000000000${i.toString(16).padStart(2, '0')}`);
    expect(bus.availableInstances('mtty', 'mtty-1')).toBe(0);
    expect(() => bus.create('mtty', 'mtty-1', U1)).toThrow(err('ENOSPC'));
    expect(bus.device(U1)).toBeUndefined();
  });

  it('remove_store: 0 keeps the device, junk is EINVAL, non-zero removes it and frees the ports', () => {
    const { bus, mtty, vfio } = setup();
    bus.create('mtty', 'mtty-2', U1);
    expect(mtty.availablePorts()).toBe(22);
    expect(bus.remove(U1, '0')).toBe(1);
    expect(() => bus.remove(U1, 'x')).toThrow(err('EINVAL'));
    expect(bus.device(U1)).toBeDefined();
    expect(bus.remove(U1, '0x1')).toBe(3);
    expect(bus.device(U1)).toBeUndefined();
    expect(mtty.availablePorts()).toBe(MAX_MTTYS);
    expect(vfio.groups.size).toBe(0);
    expect(() => bus.remove(U1, '1')).toThrow(err('ENOENT'));
  });

  it('kstrtoul: base 0 with one trailing newline', () => {
    expect(kstrtoul('010\n')).toBe(8n);
    expect(kstrtoul('0x1f')).toBe(31n);
    expect(() => kstrtoul('1 ')).toThrow(err('EINVAL'));
    expect(() => kstrtoul('18446744073709551616')).toThrow(err('ERANGE'));
  });

  it('property: ports in devices + free ports = 24, and available_instances = free / ports per device', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('create' as const),
        type: fc.constantFrom('mtty-1', 'mtty-2'),
        id: fc.nat(15),
      }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.nat(15) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { bus, mtty } = setup();
        for (const o of ops) {
          const uuid = `00000000-0000-0000-0000-0000000000${o.id.toString(16).padStart(2, '0')}`;
          try {
            if (o.kind === 'create') bus.create('mtty', o.type, uuid);
            else bus.remove(uuid, '1');
          } catch (error) {
            expect(['EEXIST', 'ENOSPC', 'ENOENT']).toContain((error as { code: string }).code);
          }
          const used = bus.list().reduce((n, d) => n + (d.type === 'mtty-2' ? 2 : 1), 0);
          expect(used + mtty.availablePorts()).toBe(MAX_MTTYS);
          expect(bus.availableInstances('mtty', 'mtty-1')).toBe(mtty.availablePorts());
          expect(bus.availableInstances('mtty', 'mtty-2')).toBe(Math.floor(mtty.availablePorts() / 2));
        }
      }),
    );
  });
});
