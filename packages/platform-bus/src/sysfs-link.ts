/**
 * The target sysfs stores in a symbolic link (fs/sysfs/symlink.c → kernfs_get_target_path):
 * the path from the directory holding the link up to the common ancestor as `../` steps,
 * then down to the target (the ancestor is a proper ancestor of the target). `relativeLink('/sys/devices/platform/9010000.pl031',
 * '/sys/bus/amba/drivers/rtc-pl031')` is `../../../bus/amba/drivers/rtc-pl031`.
 */
export function relativeLink(linkDir: string, target: string): string {
  const from = linkDir.split('/').filter((part) => part.length > 0);
  const to = target.split('/').filter((part) => part.length > 0);
  // kernfs_get_target_path goes up until `base` is an ancestor of the target's PARENT, so the
  // shared part never includes the target itself: a link to an ancestor of its own directory
  // (or to that directory) is `../../a`, not `../`.
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return '../'.repeat(from.length - common) + to.slice(common).join('/');
}
