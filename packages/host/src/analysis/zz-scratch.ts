import { readdirSync, readFileSync } from 'node:fs';
import { analyzeHost, createHost } from '@vfiokit/host';

const dirs = ['/work/shared/fixtures/dtb', '/work/shared/fixtures/corpus'];
for (const dir of dirs)
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.dtb'))) {
    const t0 = performance.now();
    try {
      const host = createHost(new Uint8Array(readFileSync(`${dir}/${f}`)));
      const t1 = performance.now();
      const a = analyzeHost(host);
      const t2 = performance.now();
      const paths: Record<string, number> = {};
      for (const d of a.devices)
        paths[`${d.path}${d.assignable ? '+' : ''}`] =
          (paths[`${d.path}${d.assignable ? '+' : ''}`] ?? 0) + 1;
      console.log(
        f,
        a.devices.length,
        a.groups.length,
        (t1 - t0).toFixed(0),
        (t2 - t1).toFixed(0),
        JSON.stringify(paths),
      );
    } catch (e) {
      console.log(f, 'ERROR', (e as Error).message);
    }
  }
