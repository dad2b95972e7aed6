import { readFileSync } from 'node:fs';

// Where the blobs live, relative to this file in packages/examples/src: the oracle's QEMU virt
// dumps are in the repository (oracle/dtb), the real boards' trees in the shared fixtures
// next to it (../shared/fixtures/dtb, as test/vfio-juno.test.ts finds them).

/** A QEMU virt tree the oracle dumped (`oracle/dtb/<name>.dtb`). */
export function oracleDtb(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../../oracle/dtb/${name}.dtb`, import.meta.url)));
}

/** A board's tree from the shared fixtures (`../shared/fixtures/dtb/<name>.dtb`). */
export function fixtureDtb(name: string): Uint8Array {
  return new Uint8Array(
    readFileSync(new URL(`../../../../shared/fixtures/dtb/${name}.dtb`, import.meta.url)),
  );
}
