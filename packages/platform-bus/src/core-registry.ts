import { KernelError } from '@vfiokit/core';
import type { CoreContext } from './core-context.js';

/** Each driver core's internal context, keyed by the `DriverCore` that owns it. */
const CONTEXTS = new WeakMap<object, CoreContext>();

/** Records the context `owner` gives its buses. */
export function registerCore(owner: object, context: CoreContext): void {
  CONTEXTS.set(owner, context);
}

/** The context of the driver core `owner`; `EINVAL` (a typed KernelError) for anything else. */
export function contextOf(owner: object): CoreContext {
  const context = CONTEXTS.get(owner);
  if (context === undefined) throw new KernelError('EINVAL', 'buses are made by a DriverCore');
  return context;
}
