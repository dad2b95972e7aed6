import { KernelError, rejectUnknownOptions } from '@vfiokit/core';

/**
 * Refuses unknown keys in a scenario's options (`EINVAL`, through core's
 * `rejectUnknownOptions`). The scenarios' model options were called `model`, the name the
 * world uses for the model instance; they are `modelOptions` now, and the old name gets an
 * error that says so rather than a generic one.
 */
export function checkScenarioOptions<T extends object>(
  options: T,
  allowedKeys: readonly (keyof T & string)[],
  where: string,
): void {
  if (typeof options === 'object' && options !== null && Object.hasOwn(options, 'model')) {
    throw new KernelError(
      'EINVAL',
      `${where}: option 'model' is called 'modelOptions' ('model' is the model instance in the world)`,
    );
  }
  rejectUnknownOptions(options, allowedKeys, where);
}
