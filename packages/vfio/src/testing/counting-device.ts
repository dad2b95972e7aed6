import { KernelError } from '@vfiokit/core';
import type { VfioDeviceOps } from '../device/vfio-device.js';

/** A {@link VfioDeviceOps} that counts opens and closes and refuses everything else. */
export interface CountingDeviceOps extends VfioDeviceOps {
  readonly opens: number;
  readonly closes: number;
  /** Makes the next `openDevice` fail with this error code. */
  failNextOpen: KernelError | undefined;
}

/** A device for exercising groups and containers without a bus driver. */
export function countingDeviceOps(): CountingDeviceOps {
  const state = { opens: 0, closes: 0, failNextOpen: undefined as KernelError | undefined };
  const refuse = (what: string): never => {
    throw new KernelError('ENOTTY', `counting device has no ${what}`);
  };
  return {
    get opens() {
      return state.opens;
    },
    get closes() {
      return state.closes;
    },
    get failNextOpen() {
      return state.failNextOpen;
    },
    set failNextOpen(error: KernelError | undefined) {
      state.failNextOpen = error;
    },
    openDevice(): void {
      const error = state.failNextOpen;
      state.failNextOpen = undefined;
      if (error !== undefined) throw error;
      state.opens++;
    },
    closeDevice(): void {
      state.closes++;
    },
    ioctl: () => refuse('ioctl'),
    read: () => refuse('read'),
    write: () => refuse('write'),
    mmap: () => refuse('mmap'),
  };
}
