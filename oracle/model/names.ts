import type { HostMapping } from '@vfiokit/host';
import { latin1, ScenarioError, type ScenarioLine, type Token } from './scenario.js';

/** The three kinds of names a scenario defines (runner.c `enum kind`). */
export type NameKind = 'fd' | 'mapping' | 'job';

/** A background job: its result once the command finished. */
export interface Job {
  /** The result text once done; `undefined` while the command still waits. */
  result: string | undefined;
  /** Set once `wait` printed the result. */
  waited: boolean;
}

/** A named fd, mapping or job (runner.c `struct name`). */
export interface Name {
  readonly name: string;
  readonly kind: NameKind;
  /** The command that defined it failed: an fd stands for -1, a mapping for EFAULT. */
  failed: boolean;
  fd: number;
  mapping: HostMapping | undefined;
  /** The mapping's length as the scenario gave it (bounds of peek32/poke32). */
  length: number;
  job: Job | undefined;
}

const MAX_NAMES = 64;

/** runner.c `is_name`: 1–31 bytes of `[A-Za-z0-9_-]`, unquoted. */
export function isName(token: Token | undefined): boolean {
  if (token === undefined || token.quoted || token.bytes.length === 0 || token.bytes.length > 31)
    return false;
  return /^[A-Za-z0-9_-]+$/.test(latin1(token.bytes));
}

/** The name table, with the C runner's define/lookup/undefine rules and messages. */
export class NameTable {
  private readonly names: Name[] = [];

  find(kind: NameKind, name: string): Name | undefined {
    return this.names.find((n) => n.kind === kind && n.name === name);
  }

  lookup(line: ScenarioLine, index: number, kind: NameKind): Name {
    const token = line.tokens[index];
    if (!isName(token))
      throw new ScenarioError(line.lineno, `token ${index + 1} is not a ${describe(kind)} name`);
    const name = latin1(token?.bytes ?? new Uint8Array());
    const found = this.find(kind, name);
    if (found === undefined) throw new ScenarioError(line.lineno, `${describe(kind)} ${name} is not defined`);
    return found;
  }

  define(line: ScenarioLine, index: number, kind: NameKind): Name {
    const token = line.tokens[index];
    if (!isName(token)) throw new ScenarioError(line.lineno, `token ${index + 1} is not a valid name`);
    const name = latin1(token?.bytes ?? new Uint8Array());
    if (this.find(kind, name) !== undefined)
      throw new ScenarioError(line.lineno, `${describe(kind)} ${name} is already defined`);
    if (this.names.length === MAX_NAMES) throw new ScenarioError(line.lineno, `more than ${MAX_NAMES} names`);
    const entry: Name = { name, kind, failed: false, fd: -1, mapping: undefined, length: 0, job: undefined };
    this.names.push(entry);
    return entry;
  }

  undefine(entry: Name): void {
    const index = this.names.indexOf(entry);
    if (index >= 0) this.names.splice(index, 1);
  }

  get all(): readonly Name[] {
    return this.names;
  }

  clear(): void {
    this.names.length = 0;
  }
}

function describe(kind: NameKind): string {
  return kind === 'fd' ? 'fd' : kind === 'mapping' ? 'mapping' : 'job';
}
