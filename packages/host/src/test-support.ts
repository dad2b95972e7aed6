import { readFileSync } from 'node:fs';

/** QEMU 7.2 `-M virt,gic-version=3` device tree (packages/host/fixtures). */
export function virtDtb(): Uint8Array {
  return new Uint8Array(readFileSync(new URL('../fixtures/qemu-virt-gic-version-3.dtb', import.meta.url)));
}

/** The errno name a call throws, `'ok'` when it returns. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    return code;
  }
}
