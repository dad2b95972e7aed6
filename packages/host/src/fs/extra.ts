/**
 * A node the host serves itself, beside platform-bus's sysfs: a directory (its listing), a
 * file (read, and a store that may wait: an mdev `remove` waits for open device fds), a
 * symbolic link (its target as `readlink` prints it) or a VFIO character device.
 */
export type Extra =
  | { readonly kind: 'dir'; readonly list: () => string[] }
  | {
      readonly kind: 'file';
      readonly read: () => string;
      readonly write?: (data: string) => unknown;
    }
  | { readonly kind: 'link'; readonly target: string }
  | { readonly kind: 'chardev' };
