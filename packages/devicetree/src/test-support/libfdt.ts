// The host's libfdt (libfdt.so.1, a dependency of the dtc package) as an oracle for
// fdt_check_full(): a tiny C harness, compiled with gcc on first use, checks a batch of
// blobs in one process. Skipped with a visible note when gcc or libfdt is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const HARNESS = `
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int fdt_check_full(const void *fdt, size_t bufsize);
int main(void) {
  uint32_t len;
  while (fread(&len, 4, 1, stdin) == 1) {
    /* 8-byte aligned, as libfdt's fdt_ro_probe_() requires, with slack so libfdt's
       header reads of a short buffer stay inside the allocation. */
    unsigned char *buf = aligned_alloc(8, ((size_t)len + 64 + 7) & ~(size_t)7);
    memset(buf, 0, (size_t)len + 64);
    if (len && fread(buf, 1, len, stdin) != len) return 2;
    /* libfdt 1.6.1 loops forever on some blobs: check each one in a child with a
       one-second alarm, and report a hang or a crash instead of a code. */
    int fds[2];
    if (pipe(fds) != 0) return 3;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGALRM);
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      signal(SIGALRM, SIG_DFL);
      alarm(1);
      int r = fdt_check_full(buf, len);
      if (write(fds[1], &r, sizeof r) != sizeof r) _exit(4);
      _exit(0);
    }
    int status = 0, r = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && read(fds[0], &r, sizeof r) == sizeof r)
      printf("%d\\n", r);
    else
      printf("%s\\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "HANG" : "CRASH");
    close(fds[0]);
    close(fds[1]);
    free(buf);
  }
  return 0;
}
`;

const LIBS = [
  '/usr/lib/x86_64-linux-gnu/libfdt.so.1',
  '/usr/lib/aarch64-linux-gnu/libfdt.so.1',
  '/usr/lib/libfdt.so.1',
  '/usr/lib64/libfdt.so.1',
];

let binary: string | null | undefined;

function harness(): string | null {
  if (binary !== undefined) return binary;
  binary = null;
  const lib = LIBS.find((p) => existsSync(p));
  if (lib === undefined) {
    console.warn('[devicetree] libfdt.so.1 not found: the fdt_check_full() differential is SKIPPED');
    return binary;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vfiokit-libfdt-'));
  writeFileSync(join(dir, 'check.c'), HARNESS);
  const out = join(dir, 'check');
  const cc = spawnSync('gcc', ['-O1', '-o', out, join(dir, 'check.c'), lib], { timeout: 60_000 });
  if (cc.status !== 0) {
    console.warn(
      `[devicetree] gcc could not build the libfdt harness: the fdt_check_full() differential is SKIPPED (${cc.stderr?.toString() ?? cc.error?.message})`,
    );
    return binary;
  }
  binary = out;
  return binary;
}

/** libfdt's FDT_ERR_* numbers (libfdt.h) back to their names. */
const NAMES = [
  'OK',
  'NOTFOUND',
  'EXISTS',
  'NOSPACE',
  'BADOFFSET',
  'BADPATH',
  'BADPHANDLE',
  'BADSTATE',
  'TRUNCATED',
  'BADMAGIC',
  'BADVERSION',
  'BADSTRUCTURE',
  'BADLAYOUT',
  'INTERNAL',
  'BADNCELLS',
  'BADVALUE',
  'BADOVERLAY',
  'NOPHANDLES',
  'BADFLAGS',
  'ALIGNMENT',
];

/**
 * fdt_check_full() of each blob as `OK`, the FDT_ERR_* name, or `HANG`/`CRASH` (libfdt 1.6.1
 * itself can loop on some blobs); null when libfdt is unavailable.
 */
export function libfdtCheckFull(blobs: readonly Uint8Array[]): string[] | null {
  const bin = harness();
  if (bin === null) return null;
  const chunks: Uint8Array[] = [];
  for (const b of blobs) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length, true);
    chunks.push(len, b);
  }
  const run = spawnSync(bin, [], { input: Buffer.concat(chunks), timeout: 120_000, maxBuffer: 1 << 24 });
  // One batch per test run: the harness is rebuilt next time rather than left in /tmp.
  rmSync(dirname(bin), { recursive: true, force: true });
  binary = undefined;
  if (run.status !== 0)
    throw new RangeError(`libfdt harness failed: status ${run.status} ${run.signal ?? ''}`);
  return run.stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) =>
      line === 'HANG' || line === 'CRASH' ? line : (NAMES[-Number(line)] ?? `UNKNOWN(${line})`),
    );
}
