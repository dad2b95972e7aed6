/**
 * The target sysfs stores in a symbolic link (fs/sysfs/symlink.c → kernfs_get_target_path):
 * the path from the directory holding the link up to the common ancestor as `../` steps,
 * then down to the target. `relativeLink('/sys/devices/platform/9010000.pl031',
 * '/sys/bus/amba/drivers/rtc-pl031')` is `../../../bus/amba/drivers/rtc-pl031`.
 */
export function relativeLink(linkDir: string, target: string): string {
  const from = linkDir.split('/').filter((part) => part.length > 0);
  const to = target.split('/').filter((part) => part.length > 0);
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) common++;
  return '../'.repeat(from.length - common) + to.slice(common).join('/');
}
