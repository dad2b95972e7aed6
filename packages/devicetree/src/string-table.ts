// dtc's strings block (flattree.c: stringtable_insert()): a name is stored once, and a name
// that already occurs as the tail of an earlier name (`phandle` in `linux,phandle`) points
// into it — memmem() of the name and its NUL over the block so far, first match wins.
// Reproducing that choice is what makes serializeFdt(parseFdt(b)) byte-identical for
// dtc-produced blobs.
import { latin1Encode } from './latin1.js';

interface Stored {
  readonly name: string;
  readonly at: number;
}

/** A growing strings block with dtc's first-match tail sharing. */
export class StringTable {
  /** Offset of every name handed out so far. */
  private readonly offsets = new Map<string, number>();
  /** Names stored in the block, in block order, bucketed by their last three characters. */
  private readonly byTail = new Map<string, Stored[]>();
  private readonly stored: Stored[] = [];
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  /** The offset of `name` in the block, appending it when no stored name ends with it. */
  insert(name: string): number {
    const known = this.offsets.get(name);
    if (known !== undefined) return known;
    // The first stored name (in block order) that ends with `name` holds its first match;
    // a name of three characters or more can only end a name of the same last three.
    const candidates = name.length >= 3 ? (this.byTail.get(name.slice(-3)) ?? []) : this.stored;
    let at: number | undefined;
    for (const c of candidates) {
      if (c.name.endsWith(name)) {
        at = c.at + c.name.length - name.length;
        break;
      }
    }
    if (at === undefined) {
      const encoded = latin1Encode(name, 'property name');
      at = this.size;
      this.parts.push(encoded);
      this.size += encoded.length + 1;
      const entry = { name, at };
      this.stored.push(entry);
      if (name.length >= 3) {
        const tail = name.slice(-3);
        const bucket = this.byTail.get(tail);
        if (bucket === undefined) this.byTail.set(tail, [entry]);
        else bucket.push(entry);
      }
    }
    this.offsets.set(name, at);
    return at;
  }

  /** Total bytes of the block. */
  get length(): number {
    return this.size;
  }

  /** Copies the block into `out` at `offset`. */
  writeTo(out: Uint8Array, offset: number): void {
    let at = offset;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length + 1;
    }
  }
}
