import { KernelError } from '@vfiokit/core';

/** `enum iommufd_object_type`, as far as the model has them. */
export type IommufdObjectType = 'device' | 'hwpt_paging' | 'ioas' | 'access';

/**
 * `struct iommufd_object`: an id in the context's xarray and a `users` count. The xarray
 * holds one user; every object that points at this one holds another (a HWPT holds its
 * IOAS, an attached device its HWPT, a bound driver its device), and only an object whose
 * sole user is the xarray can be destroyed.
 */
export abstract class IommufdObject {
  abstract readonly type: IommufdObjectType;
  /** The id user space names it by (0 until allocated). */
  id = 0;
  /** `obj->users`. */
  users = 1;
  /** `iommufd_object_ops[type].destroy`. */
  abstract destroy(): void;
}

/** `xa_limit_31b`. */
const ID_LIMIT = 0x7fff_ffff;

/**
 * `ictx->objects`: an allocating xarray (`XA_FLAGS_ALLOC1`: the lowest free id from 1), with
 * the kernel's two-step creation (`_iommufd_object_alloc` reserves the id,
 * `iommufd_object_finalize` publishes the object) and its removal rules
 * (`iommufd_object_remove`).
 */
export class ObjectTable {
  /** id → object, or null for an id reserved by an allocation not finalized yet (XA_ZERO_ENTRY). */
  private readonly slots = new Map<number, IommufdObject | null>();

  /** `_iommufd_object_alloc`: reserves the lowest free id; `EBUSY` when none is left (`xa_alloc`). */
  alloc(obj: IommufdObject): number {
    let id = 1;
    while (this.slots.has(id)) id++;
    if (id > ID_LIMIT) throw new KernelError('EBUSY', 'no free iommufd object id');
    this.slots.set(id, null);
    obj.id = id;
    return id;
  }

  /** `iommufd_object_finalize`. */
  finalize(obj: IommufdObject): void {
    this.slots.set(obj.id, obj);
  }

  /** `iommufd_object_abort`: frees the reserved id of an object never finalized. */
  abort(obj: IommufdObject): void {
    this.slots.delete(obj.id);
  }

  /** `iommufd_get_object`: `ENOENT` for no object, a reserved id, or another type. */
  get<T extends IommufdObject>(id: number, type?: T['type']): T {
    const obj = this.slots.get(id);
    if (obj === undefined || obj === null || (type !== undefined && obj.type !== type))
      throw new KernelError('ENOENT', `no iommufd ${type ?? 'object'} with id ${id}`);
    return obj as T;
  }

  /** Whether the xarray holds anything, reserved ids included (`xa_empty`). */
  get empty(): boolean {
    return this.slots.size === 0;
  }

  /** Published objects, by id. */
  list(): IommufdObject[] {
    return [...this.slots.values()].filter((o): o is IommufdObject => o !== null);
  }

  /**
   * `iommufd_object_remove(ictx, NULL, id, 0)` (IOMMU_DESTROY): `ENOENT` for no object,
   * `EBUSY` while anything besides the xarray uses it.
   */
  destroyById(id: number): void {
    const obj = this.slots.get(id);
    if (obj === undefined || obj === null) throw new KernelError('ENOENT', `no iommufd object with id ${id}`);
    if (obj.users !== 1)
      throw new KernelError('EBUSY', `iommufd object ${id} has ${obj.users - 1} other users`);
    this.slots.delete(id);
    obj.users = 0;
    obj.destroy();
  }

  /**
   * `iommufd_object_remove(ictx, obj, id, ...)` for a caller that holds a user of `obj`
   * (`iommufd_object_destroy_user`, `iommufd_object_put_and_try_destroy`): the caller's user
   * is dropped, then the object goes if the xarray is its last user. Returns whether it went.
   */
  putAndTryDestroy(obj: IommufdObject): boolean {
    obj.users--;
    if (obj.users !== 1 || this.slots.get(obj.id) !== obj) return false;
    this.slots.delete(obj.id);
    obj.users = 0;
    obj.destroy();
    return true;
  }

  /**
   * `iommufd_fops_release`: destroy every object whose only user is the xarray, again and
   * again, until none is left. Returns the objects that could not go (a refcount bug the
   * kernel WARNs about).
   */
  release(): IommufdObject[] {
    while (!this.empty) {
      let destroyed = 0;
      for (const [id, obj] of [...this.slots]) {
        if (obj === null || obj.users !== 1) continue;
        this.slots.delete(id);
        obj.users = 0;
        obj.destroy();
        destroyed++;
      }
      if (destroyed === 0) break;
    }
    return this.list();
  }
}
