import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { openedPlatformFixture } from '../test-support/platform-fixture.js';
import {
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_DEVICE_FEATURE_PROBE,
  VFIO_DEVICE_FEATURE_SET,
} from '../uapi/flags.js';
import { VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_FEATURE } from '../uapi/ioctls.js';

function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setInt32(i * 4, v | 0, true);
  });
  return bytes;
}

describe('core device ioctls on a group-opened fd (vfio_device_fops_unl_ioctl)', () => {
  it('VFIO_DEVICE_BIND_IOMMUFD is EINVAL: only cdev fds may bind (vfio_df_ioctl_bind_iommufd)', () => {
    const f = openedPlatformFixture();
    expect(
      thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_BIND_IOMMUFD, words(16, 0, 3, 0))),
    ).toBe('EINVAL');
    expect(
      thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_BIND_IOMMUFD, words(16, 1, 3, 0))),
    ).toBe('EINVAL');
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_BIND_IOMMUFD, new Uint8Array(8)))).toBe(
      'EFAULT',
    );
  });

  it.each([
    ['argsz below minsz', words(4, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION), 'EINVAL'],
    ['an unknown flag', words(8, (1 << 19) | VFIO_DEVICE_FEATURE_MIGRATION), 'EINVAL'],
    ['GET and SET without PROBE', words(8, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | 1), 'EINVAL'],
    ['a short buffer', new Uint8Array(4), 'EFAULT'],
    [
      'MIGRATION on a device without mig_ops',
      words(16, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, 0, 0),
      'ENOTTY',
    ],
    [
      'GET|SET|PROBE of a driver feature (no device_feature op)',
      words(8, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | 100),
      'ENOTTY',
    ],
  ])('VFIO_DEVICE_FEATURE with %s: %s', (_what, bytes, errno) => {
    const f = openedPlatformFixture();
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_FEATURE, bytes))).toBe(errno);
  });
});
