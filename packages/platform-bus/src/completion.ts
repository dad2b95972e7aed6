/**
 * The result of an operation that may have to wait (a driver's `remove` waiting for user
 * space to close its fds, a `probe` that returns a promise): the value when it finished,
 * or a promise of it. One error channel: an operation that finishes at once throws, one
 * that waits rejects — never both. Awaiting either form is safe.
 */
export type Completion<T = void> = T | Promise<T>;

/** Whether `value` is a promise (a thenable). */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Runs `next` on the value of `completion` — at once when it has one, else when it settles. */
export function andThen<T, U>(completion: Completion<T>, next: (value: T) => Completion<U>): Completion<U> {
  return isPromise(completion) ? completion.then(next) : next(completion);
}

/** One completion for many: `undefined` when all finished, else a promise for the rest. */
export function allDone(results: readonly Completion[]): Completion {
  const pending = results.filter((r): r is Promise<void> => isPromise(r));
  if (pending.length === 0) return undefined;
  return Promise.all(pending).then(() => undefined);
}
