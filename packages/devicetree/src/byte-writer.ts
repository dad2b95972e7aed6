/** An append-only big-endian byte buffer that doubles when full. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, false);
    this.length += 4;
  }

  bytes(data: Uint8Array): void {
    const n = data.length;
    this.reserve(n);
    // TypedArray.set() has a fixed cost that dominates for the short values most properties have.
    if (n <= 16) {
      const buf = this.buf;
      let at = this.length;
      for (let i = 0; i < n; i++) buf[at++] = data[i] as number;
    } else {
      this.buf.set(data, this.length);
    }
    this.length += n;
  }

  /** Appends zero bytes up to a multiple of `a` (dtc data_append_align()). */
  alignTo(a: number): void {
    const pad = (a - (this.length % a)) % a;
    this.reserve(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  /** The bytes written so far (a view, not a copy). */
  contents(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
