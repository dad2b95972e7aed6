// An append-only text buffer of UTF-16 code units, decoded once at the end. Printing a big
// tree through it allocates one buffer instead of millions of short strings, which is what
// bounds toDts on large trees (garbage collection, not formatting).

const HEX = '0123456789abcdef';
const decoder = new TextDecoder('utf-16le');

/** Text built from code units; `toString()` decodes it. */
export class TextWriter {
  private buf: Uint16Array;
  private length = 0;

  /** `capacity`: expected code units; growing past it copies the buffer. */
  constructor(capacity: number = 1 << 16) {
    this.buf = new Uint16Array(Math.max(64, capacity));
  }

  private reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint16Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Appends a string. */
  text(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** Appends one code unit. */
  char(c: number): void {
    this.reserve(1);
    this.buf[this.length++] = c;
  }

  /** Appends `bytes[start, end)`, one character per byte. */
  latin1(bytes: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    const buf = this.buf;
    let at = this.length;
    for (let i = start; i < end; i++) buf[at++] = bytes[i] as number;
    this.length = at;
  }

  /** Appends `byte` as two lowercase hex digits (`%02x`). */
  hex2(byte: number): void {
    this.reserve(2);
    this.buf[this.length++] = HEX.charCodeAt(byte >>> 4);
    this.buf[this.length++] = HEX.charCodeAt(byte & 15);
  }

  /** Appends `0x` and a u32 in lowercase hex with at least two digits (`0x%02x`). */
  cell(value: number): void {
    this.reserve(10);
    const buf = this.buf;
    buf[this.length++] = 0x30;
    buf[this.length++] = 0x78;
    let shift = 28;
    while (shift > 4 && value >>> shift === 0) shift -= 4;
    for (; shift >= 0; shift -= 4) buf[this.length++] = HEX.charCodeAt((value >>> shift) & 15);
  }

  /** The text written so far. */
  toString(): string {
    const view = this.buf.subarray(0, this.length);
    return decoder.decode(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
}
