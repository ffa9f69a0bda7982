/**
 * Little-endian fixed-width and varint decoding as RocksDB writes it (`util/coding.h`): varint32/64 are LEB128,
 * "length-prefixed slices" are a varint32 length followed by the bytes. A ByteReader throws a plain Error on
 * running past its end; callers wrap it into a RocksDbFormatError naming the file.
 */
export class ByteReader {
  pos: number;
  readonly buf: Uint8Array;
  readonly end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) throw new Error('unexpected end of data');
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (this.pos + 4 > this.end) throw new Error('unexpected end of data');
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    if (this.pos + 8 > this.end) throw new Error('unexpected end of data');
    const v = readU64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  /** varint32 (fits a JS number exactly). */
  varint32(): number {
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new Error('varint32 overflow');
        return result;
      }
    }
    throw new Error('varint32 too long');
  }

  /** varint64 as a JS number; RocksDB offsets/sizes/file numbers stay far below 2^53. */
  varint64(): number {
    let result = 0;
    for (let shift = 0; shift <= 63; shift += 7) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        // Rounding is monotonic: a value above 2^53 - 1 sums to at least 2^53 here too.
        if (result > Number.MAX_SAFE_INTEGER) throw new Error(`varint64 of about ${result} exceeds 2^53`);
        return result;
      }
    }
    throw new Error('varint64 too long');
  }

  varint64Big(): bigint {
    let result = 0n;
    for (let shift = 0n; shift <= 63n; shift += 7n) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('varint64 too long');
  }

  /** Zig-zag signed varint64 (`GetVarsignedint64`), within ±2^52. */
  varsigned64(): number {
    const u = this.varint64();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new Error('unexpected end of data');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  lengthPrefixed(): Uint8Array {
    return this.bytes(this.varint32());
  }
}

export function readU16(buf: Uint8Array, pos: number): number {
  return buf[pos]! | (buf[pos + 1]! << 8);
}

export function readU32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
}

export function readI32(buf: Uint8Array, pos: number): number {
  return buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24);
}

export function readU64(buf: Uint8Array, pos: number): bigint {
  return BigInt(readU32(buf, pos)) | (BigInt(readU32(buf, pos + 4)) << 32n);
}

export function readU64BE(buf: Uint8Array, pos: number): bigint {
  return (BigInt(readU32BE(buf, pos)) << 32n) | BigInt(readU32BE(buf, pos + 4));
}

export function readU32BE(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A little-endian IEEE-754 double (bytes moved through a scratch array: no DataView per call). */
export function readF64(buf: Uint8Array, pos: number): number {
  if (!LITTLE_ENDIAN_HOST) return new DataView(buf.buffer, buf.byteOffset + pos, 8).getFloat64(0, true);
  for (let i = 0; i < 8; i++) F64_BYTES[i] = buf[pos + i]!;
  return F64[0]!;
}

/** Unsigned lexicographic comparison (`Slice::compare`, RocksDB's bytewise comparator). */
export function compareBytes(a: Uint8Array, b: Uint8Array, aLen = a.length): number {
  const bLen = b.length;
  const n = Math.min(aLen, bLen);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return aLen === bLen ? 0 : aLen < bLen ? -1 : 1;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function startsWith(buf: Uint8Array, prefix: Uint8Array, len = buf.length): boolean {
  if (len < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A copy of `src[start, end)`. Small copies come from Node's shared Buffer pool (no ArrayBuffer of its own: a dump
 * holds millions of keys and fields) and are Buffers, which encode to base64 without a wrapper.
 */
export function copyBytes(src: Uint8Array, start: number, end: number): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n <= 32) for (let i = 0; i < n; i++) out[i] = src[start + i]!;
  else out.set(src.subarray(start, end));
  return out;
}
