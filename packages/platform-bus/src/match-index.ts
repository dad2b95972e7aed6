import type { Device, DriverSpec } from './device.js';

/** A registered driver with its registration sequence number (klist order). */
export interface RegisteredDriver {
  readonly spec: DriverSpec;
  readonly seq: number;
}

function push<K>(map: Map<K, RegisteredDriver[]>, key: K, entry: RegisteredDriver): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else if (!list.includes(entry)) list.push(entry);
}

function drop<K>(map: Map<K, RegisteredDriver[]>, key: K, entry: RegisteredDriver): void {
  const list = map.get(key);
  if (list === undefined) return;
  const at = list.indexOf(entry);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

/**
 * Candidate drivers of a bus, indexed by every key a match can hinge on: compatible string,
 * ACPI id, id-table name, driver name, AMBA id under each distinct mask, and the wildcard
 * drivers. `candidates(device)` returns a superset of the drivers that match, in
 * registration order; the caller still runs the exact match function on each, so the index
 * can only make attach faster, never change which driver wins (the kernel walks the bus's
 * whole driver klist in registration order: drivers/base/bus.c bus_for_each_drv).
 */
export class DriverIndex {
  private readonly byCompatible = new Map<string, RegisteredDriver[]>();
  private readonly byAcpi = new Map<string, RegisteredDriver[]>();
  /** id-table names and, for drivers without an id table, the driver name. */
  private readonly byDeviceName = new Map<string, RegisteredDriver[]>();
  private readonly byDriverName = new Map<string, RegisteredDriver>();
  /** mask → (periphid & mask) → drivers. */
  private readonly byAmbaMask = new Map<number, Map<number, RegisteredDriver[]>>();
  private readonly wildcards: RegisteredDriver[] = [];
  private readonly ordered: RegisteredDriver[] = [];
  private readonly scratch: (readonly RegisteredDriver[])[] = [];

  /** Registered drivers in registration order. */
  get all(): readonly RegisteredDriver[] {
    return this.ordered;
  }

  /** The driver registered under `name`. */
  byName(name: string): RegisteredDriver | undefined {
    return this.byDriverName.get(name);
  }

  add(entry: RegisteredDriver): void {
    const { spec } = entry;
    this.ordered.push(entry);
    this.byDriverName.set(spec.name, entry);
    if (spec.matchAnyDevice === true) this.wildcards.push(entry);
    for (const compatible of spec.ofMatchTable ?? []) push(this.byCompatible, compatible, entry);
    for (const id of spec.acpiMatchTable ?? []) push(this.byAcpi, id, entry);
    if (spec.idTable !== undefined) for (const id of spec.idTable) push(this.byDeviceName, id, entry);
    else push(this.byDeviceName, spec.name, entry);
    for (const amba of spec.ambaIdTable ?? []) {
      if (amba.mask === 0) break;
      let ids = this.byAmbaMask.get(amba.mask >>> 0);
      if (ids === undefined) {
        ids = new Map();
        this.byAmbaMask.set(amba.mask >>> 0, ids);
      }
      push(ids, amba.id >>> 0, entry);
    }
  }

  remove(entry: RegisteredDriver): void {
    const { spec } = entry;
    const at = this.ordered.indexOf(entry);
    if (at >= 0) this.ordered.splice(at, 1);
    this.byDriverName.delete(spec.name);
    const w = this.wildcards.indexOf(entry);
    if (w >= 0) this.wildcards.splice(w, 1);
    for (const compatible of spec.ofMatchTable ?? []) drop(this.byCompatible, compatible, entry);
    for (const id of spec.acpiMatchTable ?? []) drop(this.byAcpi, id, entry);
    if (spec.idTable !== undefined) for (const id of spec.idTable) drop(this.byDeviceName, id, entry);
    else drop(this.byDeviceName, spec.name, entry);
    for (const amba of spec.ambaIdTable ?? []) {
      if (amba.mask === 0) break;
      const ids = this.byAmbaMask.get(amba.mask >>> 0);
      if (ids === undefined) continue;
      drop(ids, amba.id >>> 0, entry);
      if (ids.size === 0) this.byAmbaMask.delete(amba.mask >>> 0);
    }
  }

  /**
   * Drivers that may match `device`, in registration order (a superset of the matching ones).
   * With `driver_override` set only the named driver can match, so it is the only candidate.
   */
  candidates(device: Device): RegisteredDriver[] {
    const override = device.driverOverride;
    if (override !== null) {
      const only = this.byDriverName.get(override);
      return only === undefined ? [] : [only];
    }
    // Hit lists go into a reused scratch array, counted rather than truncated (setting an
    // array's length on every attach showed in profiles): no allocation and no closure per call.
    const hits = this.scratch;
    let n = 0;
    if (this.wildcards.length > 0) hits[n++] = this.wildcards;
    // Every key kind is looked up whatever the bus: a platform device's periphid is 0 and an
    // AMBA driver has no OF keys here, so the extra lookups only widen the superset.
    // Skipped when no driver has AMBA ids (every platform bus): no iterator per attach.
    if (this.byAmbaMask.size > 0) {
      for (const [mask, ids] of this.byAmbaMask) {
        const list = ids.get((device.periphid & mask) >>> 0);
        if (list !== undefined) hits[n++] = list;
      }
    }
    for (const compatible of device.compatible) {
      const list = this.byCompatible.get(compatible);
      if (list !== undefined) hits[n++] = list;
    }
    const acpiIds = device.description.acpiIds;
    if (acpiIds !== undefined) {
      for (const id of acpiIds) {
        const list = this.byAcpi.get(id);
        if (list !== undefined) hits[n++] = list;
      }
    }
    const named = this.byDeviceName.get(device.platformName);
    if (named !== undefined) hits[n++] = named;
    if (n === 0) return [];
    const first = hits[0] as readonly RegisteredDriver[];
    if (n === 1) return first.slice();
    const seen = new Set<RegisteredDriver>(first);
    const out = first.slice();
    for (let h = 1; h < n; h++) {
      for (const entry of hits[h] as readonly RegisteredDriver[]) {
        if (!seen.has(entry)) {
          seen.add(entry);
          out.push(entry);
        }
      }
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}
