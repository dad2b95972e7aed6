import { readFileSync } from 'node:fs';
import { isKernelError } from '@vfiokit/core';
import { createHost, type Host, type HostOptions, type HostProcess } from '@vfiokit/host';
import { cstr, type IoctlContext, needArgs, numberArg, runIoctl } from './ioctls.js';
import { runIommufdIoctl } from './iommufd-ioctls.js';
import { runKvmIoctl } from './kvm-ioctls.js';
import { type Name, NameTable } from './names.js';
import { echoLine, latin1, parseScenario, quote, ScenarioError, type ScenarioLine } from './scenario.js';

/** QEMU machine options when a scenario has no `machine` line. */
export const DEFAULT_MACHINE = 'virt,gic-version=3';

/** What oracle.sh puts on the kernel command line around the scenario's own `cmdline`. */
export function guestCmdline(scenarioCmdline: string, name: string): string {
  return `console=ttyAMA0 quiet panic=-1 ${scenarioCmdline} vfiokit_scenario=${name}`;
}

/** `oracle/dtb/<machine with , and = as _>.dtb`. */
export function dtbFileName(machine: string): string {
  return `${machine.replace(/[,=]/g, '_')}.dtb`;
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** The scenario's name (what `vfiokit_scenario=` carries); default `scenario`. */
  readonly name?: string;
  /** Where the machines' device trees are (default: `oracle/dtb` next to this directory). */
  readonly dtbDir?: string;
  /** The device tree to use whatever the machine line says. */
  readonly dtb?: Uint8Array;
  /** Host options besides the command line (a profile, or a planted difference in tests). */
  readonly hostOptions?: Omit<HostOptions, 'cmdline'>;
}

/** A transcript and the host it ran on. */
export interface ScenarioRun {
  readonly transcript: string;
  readonly host: Host;
}

type Mode = 'validate' | 'execute';

const READ_MAX = 4096;
const HEADERS = new Set(['title', 'machine', 'cmdline']);

/** Whether a line is a header directive (`title`, `machine`, `cmdline`), echoed without a result. */
export function isHeaderLine(line: ScenarioLine): boolean {
  const first = line.tokens[0];
  return first !== undefined && !first.quoted && HEADERS.has(latin1(first.bytes));
}

function errnoOf(error: unknown): string {
  if (isKernelError(error)) return error.code;
  throw error;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Lets settled promise chains (a completed unbind, a job's exit) run. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// The value of a header directive (oracle.sh `header`): its tokens after the first, single-spaced.
function header(lines: readonly ScenarioLine[], directive: string): string | undefined {
  const line = lines.find(
    (l) => !(l.tokens[0]?.quoted ?? true) && latin1(l.tokens[0]?.bytes ?? new Uint8Array()) === directive,
  );
  return line?.tokens
    .slice(1)
    .map((t) => latin1(t.bytes))
    .join(' ');
}

function hexBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return '(empty)';
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One scenario on the model, as the C runner runs it in the guest: the whole file is
 * validated first (a scenario error prints nothing), then every line is echoed and, for
 * commands, executed on a host built from the machine's device tree and the same kernel
 * command line. Background jobs are forked processes; a write that waits (an unbind while
 * the device is held) is a pending completion that `wait` reports as `blocked` until it
 * settles. Model time passes only in `sleep`, `poll` and `wait`.
 */
export async function runScenario(
  text: string | Uint8Array,
  options: RunScenarioOptions = {},
): Promise<ScenarioRun> {
  const lines = parseScenario(text);
  const runner = new ScenarioRunner(lines);
  runner.runAll('validate', undefined);
  const machine = header(lines, 'machine') ?? DEFAULT_MACHINE;
  const dtb =
    options.dtb ??
    new Uint8Array(
      readFileSync(
        `${options.dtbDir ?? new URL('../dtb', import.meta.url).pathname}/${dtbFileName(machine)}`,
      ),
    );
  const host = createHost(dtb, {
    ...options.hostOptions,
    cmdline: guestCmdline(header(lines, 'cmdline') ?? '', options.name ?? 'scenario'),
  });
  const transcript = await runner.runAll('execute', host);
  return { transcript, host };
}

class ScenarioRunner {
  private readonly lines: readonly ScenarioLine[];
  private readonly names = new NameTable();
  /** Promises of commands that end by themselves (`wait`), unlike a write that may wait for user space. */
  private readonly alwaysSettles = new WeakSet<Promise<string>>();
  private host: Host | undefined;
  private process: HostProcess | undefined;

  constructor(lines: readonly ScenarioLine[]) {
    this.lines = lines;
  }

  // runner.c run_all.
  runAll(mode: 'validate', host: undefined): string;
  runAll(mode: 'execute', host: Host): Promise<string>;
  runAll(mode: Mode, host: Host | undefined): string | Promise<string> {
    this.names.clear();
    if (mode === 'validate') {
      let seenCommand = false;
      for (const line of this.lines) {
        if (this.isHeader(line)) this.checkHeader(line, seenCommand);
        else {
          seenCommand = true;
          this.command(line, 1, 'validate', false, undefined);
        }
      }
      this.names.clear();
      return '';
    }
    this.host = host;
    this.process = host?.spawn({ comm: 'runner' });
    return this.execute();
  }

  private async execute(): Promise<string> {
    const out = { text: '' };
    try {
      return await this.executeInto(out);
    } catch (error) {
      if (error instanceof ScenarioError) error.partialTranscript = out.text;
      throw error;
    }
  }

  private async executeInto(out: { text: string }): Promise<string> {
    for (const line of this.lines) {
      if (this.isHeader(line)) {
        out.text += `${echoLine(line)}\n`;
        continue;
      }
      let result = this.command(line, 1, 'execute', false, this.process);
      if (isPromise(result) && this.alwaysSettles.has(result)) result = await result;
      if (isPromise(result)) {
        const settled = await settledOrUndefined(result);
        if (settled === undefined)
          throw new ScenarioError(line.lineno, 'a foreground command waits forever on the model');
        result = settled;
      }
      out.text += `${echoLine(line)} -> ${result}\n`;
      await flush();
    }
    return out.text;
  }

  private isHeader(line: ScenarioLine): boolean {
    return isHeaderLine(line);
  }

  private checkHeader(line: ScenarioLine, seenCommand: boolean): void {
    const first = latin1(line.tokens[0]?.bytes ?? new Uint8Array());
    if (seenCommand) throw new ScenarioError(line.lineno, `${first} must come before the first command`);
    if (first !== 'title' && line.tokens.length < 2)
      throw new ScenarioError(line.lineno, `${first} needs a value`);
  }

  private fdOf(line: ScenarioLine, index: number): number {
    const name = this.names.lookup(line, index, 'fd');
    return name.failed ? -1 : name.fd;
  }

  private hostOf(): Host {
    if (this.host === undefined) throw new ScenarioError(0, 'no host');
    return this.host;
  }

  /**
   * runner.c run_command: checks the command whose name is token `a − 1` and, when
   * executing, runs it in `proc` and returns its result text (a promise for a write that waits).
   */
  private command(
    line: ScenarioLine,
    a: number,
    mode: Mode,
    inBg: boolean,
    proc: HostProcess | undefined,
  ): string | Promise<string> {
    const token = line.tokens[a - 1];
    if (token === undefined) throw new ScenarioError(line.lineno, 'missing command');
    if (token.quoted) throw new ScenarioError(line.lineno, 'a command name cannot be quoted');
    const cmd = latin1(token.bytes);
    const execute = mode === 'execute';
    const fs = () => this.hostOf().fs;
    const p = (): HostProcess => {
      if (proc === undefined) throw new ScenarioError(line.lineno, 'no process');
      return proc;
    };
    switch (cmd) {
      case 'write':
      case 'writen': {
        const isN = cmd === 'writen';
        needArgs(line, a, isN ? 3 : 2);
        const path = cstr(line, a);
        let data: string;
        if (isN) {
          const count = numberArg(line, a + 1);
          if (count < 0n || count > 1n << 24n)
            throw new ScenarioError(line.lineno, 'writen COUNT out of range');
          const char = line.tokens[a + 2];
          if (char === undefined || char.bytes.length !== 1)
            throw new ScenarioError(line.lineno, 'writen CHAR must be exactly one byte');
          data = String.fromCharCode(char.bytes[0] ?? 0).repeat(Number(count));
        } else {
          data = latin1(line.tokens[a + 1]?.bytes ?? new Uint8Array());
        }
        if (!execute) return '';
        try {
          const written = fs().write(path, data);
          if (isPromise(written)) return written.then((n) => `${n}`, errnoOf);
          return `${written}`;
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'read': {
        needArgs(line, a, 1);
        const path = cstr(line, a);
        if (!execute) return '';
        try {
          const text = fs().read(path);
          return quote(latin1Encode(text).subarray(0, READ_MAX));
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'readlink': {
        needArgs(line, a, 1);
        const path = cstr(line, a);
        if (!execute) return '';
        try {
          return quote(latin1Encode(fs().readlink(path)));
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'ls': {
        needArgs(line, a, 1);
        const path = cstr(line, a);
        if (!execute) return '';
        try {
          const names = [...fs().list(path)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
          return names.length === 0 ? '(empty)' : names.join(' ');
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'exists': {
        needArgs(line, a, 1);
        const path = cstr(line, a);
        if (!execute) return '';
        return fs().exists(path) ? 'yes' : 'no';
      }
      case 'open': {
        if (inBg) throw new ScenarioError(line.lineno, 'a background job cannot define names');
        needArgs(line, a, 2);
        const path = cstr(line, a + 1);
        const name = this.names.define(line, a, 'fd');
        if (!execute) return '';
        try {
          name.fd = p().open(path);
          return 'ok';
        } catch (error) {
          name.failed = true;
          return errnoOf(error);
        }
      }
      case 'close': {
        if (inBg) throw new ScenarioError(line.lineno, 'a background job cannot close names');
        needArgs(line, a, 1);
        const name = this.names.lookup(line, a, 'fd');
        let result = '';
        if (execute) {
          try {
            p().close(name.failed ? -1 : name.fd);
            result = 'ok';
          } catch (error) {
            result = errnoOf(error);
          }
        }
        this.names.undefine(name);
        return result;
      }
      case 'ioctl': {
        const ctx: IoctlContext = {
          line,
          first: a,
          execute,
          inBg,
          names: this.names,
          process: proc,
          fdOf: (index) => this.fdOf(line, index),
          other: (fd, name, x) => runKvmIoctl(ctx, fd, name, x) ?? runIommufdIoctl(ctx, fd, name, x),
        };
        return runIoctl(ctx);
      }
      case 'pread': {
        needArgs(line, a, 3);
        const fd = this.fdOf(line, a);
        const offset = numberArg(line, a + 1);
        const length = numberArg(line, a + 2);
        if (offset < 0n || length < 0n || length > 1n << 20n)
          throw new ScenarioError(line.lineno, 'pread OFFSET/LEN out of range');
        if (!execute) return '';
        try {
          const buffer = new Uint8Array(Number(length));
          const n = p().pread(fd, buffer, Number(offset));
          return hexBytes(buffer.subarray(0, n));
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'pwrite': {
        needArgs(line, a, 3);
        const fd = this.fdOf(line, a);
        const offset = numberArg(line, a + 1);
        const hex = line.tokens[a + 2];
        if (offset < 0n || hex === undefined || hex.quoted || hex.bytes.length % 2 !== 0)
          throw new ScenarioError(line.lineno, 'pwrite OFFSET HEX (an even number of hex digits)');
        const text = latin1(hex.bytes);
        if (!/^[0-9a-fA-F]*$/.test(text))
          throw new ScenarioError(line.lineno, 'pwrite HEX has a non-hex digit');
        const data = Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
        if (!execute) return '';
        try {
          return `${p().pwrite(fd, data, Number(offset))}`;
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'mmap': {
        if (inBg) throw new ScenarioError(line.lineno, 'a background job cannot define names');
        needArgs(line, a, 4);
        const fd = this.fdOf(line, a + 1);
        const offset = numberArg(line, a + 2);
        const length = numberArg(line, a + 3);
        if (offset < 0n || length <= 0n) throw new ScenarioError(line.lineno, 'mmap OFFSET/LEN out of range');
        const name = this.names.define(line, a, 'mapping');
        name.length = Number(length);
        if (!execute) return '';
        try {
          name.mapping = p().mmapShared(fd, Number(offset), Number(length));
          return 'ok';
        } catch (error) {
          name.failed = true;
          return errnoOf(error);
        }
      }
      case 'peek32':
      case 'poke32': {
        const poke = cmd === 'poke32';
        needArgs(line, a, poke ? 3 : 2);
        const name = this.names.lookup(line, a, 'mapping');
        const offset = numberArg(line, a + 1);
        const value = poke ? numberArg(line, a + 2) : 0n;
        if (offset < 0n || offset % 4n !== 0n || Number(offset) + 4 > name.length)
          throw new ScenarioError(line.lineno, `${cmd} OFF outside the mapping or unaligned`);
        if (!execute) return '';
        if (name.failed || name.mapping === undefined) return 'EFAULT';
        try {
          if (poke) {
            p().poke32(name.mapping, Number(offset), Number(BigInt.asUintN(32, value)));
            return 'ok';
          }
          return `0x${p().peek32(name.mapping, Number(offset)).toString(16)}`;
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'munmap': {
        if (inBg) throw new ScenarioError(line.lineno, 'a background job cannot unmap names');
        needArgs(line, a, 1);
        const name = this.names.lookup(line, a, 'mapping');
        let result = '';
        if (execute) {
          if (name.failed || name.mapping === undefined) result = 'EFAULT';
          else {
            try {
              p().munmap(name.mapping);
              result = 'ok';
            } catch (error) {
              result = errnoOf(error);
            }
          }
        }
        this.names.undefine(name);
        return result;
      }
      case 'eventfd': {
        if (inBg) throw new ScenarioError(line.lineno, 'a background job cannot define names');
        needArgs(line, a, 1);
        const name = this.names.define(line, a, 'fd');
        if (!execute) return '';
        try {
          name.fd = p().eventfd();
          return 'ok';
        } catch (error) {
          name.failed = true;
          return errnoOf(error);
        }
      }
      case 'efdwrite': {
        needArgs(line, a, 2);
        const fd = this.fdOf(line, a);
        const value = BigInt.asUintN(64, numberArg(line, a + 1));
        if (!execute) return '';
        return this.efdwrite(p(), fd, value);
      }
      case 'poll': {
        needArgs(line, a, 2);
        const fd = this.fdOf(line, a);
        const ms = numberArg(line, a + 1);
        if (ms < 0n) throw new ScenarioError(line.lineno, 'poll MS must be >= 0');
        if (!execute) return '';
        return inBg ? this.pollInBackground(p(), fd, Number(ms)) : this.poll(p(), fd, Number(ms));
      }
      case 'guest': {
        // runner/kvm-guest.h: the guest program makes SPI level and enabled, opens PMR and
        // group 1, reads IAR and EOIs what it got (EOImode 0) inside KVM_RUN.
        needArgs(line, a, 3);
        if (inBg) throw new ScenarioError(line.lineno, 'guest cannot run in a background job');
        this.fdOf(line, a);
        const vcpu = this.fdOf(line, a + 1);
        const spi = numberArg(line, a + 2);
        if (spi < 32n || spi > 1019n) throw new ScenarioError(line.lineno, 'guest SPI must be 32..1019');
        if (!execute) return '';
        try {
          const intid = p().kvmRun(vcpu, (cpu, vm) => {
            vm.vgic.setConfig(Number(spi), 'level');
            vm.vgic.setEnabled(Number(spi), true);
            cpu.setPmr(0xff);
            const taken = cpu.ack();
            if (taken < 1020) cpu.eoi(taken);
            return taken;
          });
          return `intid=${intid}`;
        } catch (error) {
          return errnoOf(error);
        }
      }
      case 'sleep': {
        needArgs(line, a, 1);
        const ms = numberArg(line, a);
        if (ms < 0n) throw new ScenarioError(line.lineno, 'sleep MS must be >= 0');
        if (!execute) return '';
        // A background job's sleep ends when the parent has let that much model time pass.
        if (inBg) return this.after(Number(ms), () => 'ok');
        this.hostOf().advanceTime(Number(ms));
        return 'ok';
      }
      case 'bg':
        return this.background(line, a, mode, inBg, proc);
      case 'wait': {
        if (inBg) throw new ScenarioError(line.lineno, 'wait cannot run in a background job');
        needArgs(line, a, 2);
        const name = this.names.lookup(line, a, 'job');
        const ms = numberArg(line, a + 1);
        if (ms < 0n) throw new ScenarioError(line.lineno, 'wait MS must be >= 0');
        if (!execute) return '';
        const waiting = this.wait(line, name, Number(ms));
        this.alwaysSettles.add(waiting);
        return waiting;
      }
      default:
        throw new ScenarioError(line.lineno, `unknown command ${cmd}`);
    }
  }

  // write(efd, &value, 8) (fs/eventfd.c eventfd_write): 8, or EINVAL / EAGAIN. A failed name
  // is fd −1: EBADF. A VFIO file has no eventfd semantics: its write(2) at position 0, as
  // `poll` reads one.
  private efdwrite(proc: HostProcess, fd: number, value: bigint): string {
    if (fd < 0) return 'EBADF';
    try {
      if ('readable' in proc.fdget(fd)) return `${proc.eventfdWrite(fd, value)}`;
      const data = new Uint8Array(8);
      new DataView(data.buffer).setBigUint64(0, value, true);
      return `${proc.pwrite(fd, data, 0)}`;
    } catch (error) {
      return errnoOf(error);
    }
  }

  // poll(2) for POLLIN over MS milliseconds of model time, then read(2) of 8 bytes. A failed
  // name is fd −1, which poll ignores: a timeout.
  private poll(proc: HostProcess, fd: number, ms: number): string {
    const host = this.hostOf();
    if (fd < 0) {
      host.advanceTime(ms);
      return 'timeout';
    }
    let file: ReturnType<HostProcess['fdget']>;
    try {
      file = proc.fdget(fd);
    } catch (error) {
      return errnoOf(error);
    }
    if (!('readable' in file)) {
      // VFIO files have no poll: DEFAULT_POLLMASK says readable, then read(2) at position 0.
      try {
        const buffer = new Uint8Array(8);
        proc.pread(fd, buffer, 0);
        return `count=${new DataView(buffer.buffer).getBigUint64(0, true)}`;
      } catch (error) {
        return errnoOf(error);
      }
    }
    const eventfd = proc.eventfdOf(fd);
    for (let waited = 0; !eventfd.readable && waited < ms; waited++) host.advanceTime(1);
    if (!eventfd.readable) return 'timeout';
    try {
      return `count=${eventfd.read()}`;
    } catch (error) {
      return errnoOf(error);
    }
  }

  // A timer on the model clock, MS milliseconds from now, resolving with `result()`.
  private after(ms: number, result: () => string): Promise<string> {
    const clock = this.hostOf().clock;
    return new Promise((resolve) => {
      clock.at(clock.nowNs + ms * 1_000_000, () => resolve(result()));
    });
  }

  // poll(2) in a background job: it waits while the parent goes on, and ends when the
  // eventfd is signalled or when the parent has let MS of model time pass.
  private pollInBackground(proc: HostProcess, fd: number, ms: number): string | Promise<string> {
    if (fd < 0) return this.after(ms, () => 'timeout');
    let eventfd: ReturnType<HostProcess['eventfdOf']>;
    try {
      eventfd = proc.eventfdOf(fd);
    } catch {
      return this.poll(proc, fd, 0); // not an eventfd: answered at once, as poll() would
    }
    if (eventfd.readable) return this.poll(proc, fd, 0);
    const clock = this.hostOf().clock;
    return new Promise((resolve) => {
      let timer: number | undefined;
      const onSignal = (): void => {
        if (timer !== undefined) clock.cancel(timer);
        resolve(this.poll(proc, fd, 0));
      };
      eventfd.once('signal', onSignal);
      timer = clock.at(clock.nowNs + ms * 1_000_000, () => {
        eventfd.off('signal', onSignal);
        resolve(this.poll(proc, fd, 0));
      });
    });
  }

  // runner.c `bg`: the child drops every named fd and mapping its command does not name,
  // runs the command, and exits (closing what is left) once the command finished.
  private background(
    line: ScenarioLine,
    a: number,
    mode: Mode,
    inBg: boolean,
    proc: HostProcess | undefined,
  ): string {
    if (inBg) throw new ScenarioError(line.lineno, 'bg cannot be nested');
    if (line.tokens.length < a + 2) throw new ScenarioError(line.lineno, 'bg JOB COMMAND...');
    const job = this.names.define(line, a, 'job');
    if (mode === 'validate') {
      this.command(line, a + 2, 'validate', true, undefined);
      return '';
    }
    if (proc === undefined) throw new ScenarioError(line.lineno, 'no process');
    const child = proc.fork({ comm: `job-${job.name}` });
    const named = new Set(
      line.tokens
        .slice(a + 2)
        .filter((t) => !t.quoted)
        .map((t) => latin1(t.bytes)),
    );
    for (const name of this.names.all) {
      if (name.failed || named.has(name.name)) continue;
      if (name.kind === 'fd') child.close(name.fd);
      else if (name.kind === 'mapping' && name.mapping !== undefined) child.munmap(name.mapping);
    }
    job.job = { result: undefined, waited: false };
    const record = (text: string): void => {
      if (job.job !== undefined) job.job.result = text;
      child.exit();
    };
    const result = this.command(line, a + 2, 'execute', true, child);
    if (isPromise(result)) result.then(record, (error: unknown) => record(errnoOf(error)));
    else record(result);
    return 'started';
  }

  private async wait(line: ScenarioLine, name: Name, ms: number): Promise<string> {
    const job = name.job;
    if (job === undefined || job.waited)
      throw new ScenarioError(line.lineno, `job ${name.name} was already waited for`);
    for (let turn = 0; turn < 8 && job.result === undefined; turn++) await flush();
    if (job.result === undefined) {
      this.hostOf().advanceTime(ms);
      for (let turn = 0; turn < 8 && job.result === undefined; turn++) await flush();
    }
    if (job.result === undefined) return 'blocked';
    job.waited = true;
    return job.result;
  }
}

// Whether a promise settles once pending work has run: its value, its error rethrown, or
// undefined while it still waits. The handlers are attached at once, so a rejection is never
// left unhandled in between.
async function settledOrUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  void promise.then(
    (value) => {
      outcome = { ok: true, value };
    },
    (error: unknown) => {
      outcome = { ok: false, error };
    },
  );
  // A handful of turns of the event loop lets every chain that can settle without model
  // time (a completed unbind, a job's exit) settle; a write that waits for user space does not.
  for (let turn = 0; turn < 8 && outcome === undefined; turn++) await flush();
  if (outcome === undefined) return undefined;
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

// A string of byte-valued chars (what the host's files hold) as bytes.
function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
