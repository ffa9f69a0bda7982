/**
 * Snappy raw-block decompression (format: varint uncompressed length, then literal/copy elements; see
 * google/snappy `format_description.txt`). Throws on malformed input. The output is allocated once at the length
 * the header announces. Runs are copied four bytes at a time through DataViews (a copy whose offset is >= 4 reads
 * only bytes already written), the rest of a run byte by byte; only literals longer than 128 bytes are copied
 * natively (a subarray view costs more than the loop below that).
 */
export function snappyUncompress(src: Uint8Array): Uint8Array {
  const header = readHeader(src);
  const out = new Uint8Array(header.len);
  decompress(src, header, out, 0);
  return out;
}

/** The uncompressed length a snappy block announces (its varint header). */
export function snappyUncompressedLength(src: Uint8Array): number {
  return readHeader(src).len;
}

function readHeader(src: Uint8Array): { len: number; pos: number } {
  let pos = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new Error('snappy: bad length header');
    const b = src[pos++]!;
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { len, pos };
  }
}

/** Decompresses `src` into `out[base, base + length)`; returns the length. */
export function snappyUncompressInto(src: Uint8Array, out: Uint8Array, base: number): number {
  const header = readHeader(src);
  if (base + header.len > out.length) throw new Error('snappy: output does not fit');
  decompress(src, header, out, base);
  return header.len;
}

/** The elements after the header, written to `out` from `base` on. */
function decompress(src: Uint8Array, header: { len: number; pos: number }, out: Uint8Array, base: number): void {
  const srcLen = src.length;
  const end = base + header.len;
  let pos = header.pos;
  const ov = new DataView(out.buffer, out.byteOffset, out.length);
  const sv = new DataView(src.buffer, src.byteOffset, srcLen);
  let o = base;
  while (pos < srcLen) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const extra = n - 59;
        if (pos + extra > srcLen) throw new Error('snappy: truncated literal length');
        n = 0;
        for (let i = 0; i < extra; i++) n += src[pos + i]! * 2 ** (8 * i);
        pos += extra;
      }
      n += 1;
      if (pos + n > srcLen || o + n > end) throw new Error('snappy: literal overruns buffer');
      if (n <= 128) {
        let i = 0;
        for (; i + 4 <= n; i += 4) ov.setUint32(o + i, sv.getUint32(pos + i, true), true);
        for (; i < n; i++) out[o + i] = src[pos + i]!;
      } else out.set(src.subarray(pos, pos + n), o);
      pos += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= srcLen) throw new Error('snappy: truncated copy');
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > srcLen) throw new Error('snappy: truncated copy');
      n = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > srcLen) throw new Error('snappy: truncated copy');
      n = (tag >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o - base || o + n > end) throw new Error('snappy: bad copy offset');
    if (offset >= 4) {
      let i = 0;
      const s = o - offset;
      for (; i + 4 <= n; i += 4) ov.setUint32(o + i, ov.getUint32(s + i, true), true);
      for (; i < n; i++) out[o + i] = out[s + i]!;
    } else for (let i = 0; i < n; i++) out[o + i] = out[o + i - offset]!;
    o += n;
  }
  if (o !== end) throw new Error(`snappy: produced ${o - base} bytes, header said ${header.len}`);
}
