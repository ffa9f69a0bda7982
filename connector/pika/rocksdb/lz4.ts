/**
 * LZ4 raw block decompression (lz4 `lz4_Block_format.md`): sequences of token, literal run, 2-byte match offset
 * and match length. The caller supplies the exact uncompressed size (RocksDB stores it in front of the block).
 */
export function lz4UncompressBlock(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let pos = 0;
  let o = 0;
  while (pos < src.length) {
    const token = src[pos++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (pos >= src.length) throw new Error('lz4: truncated literal length');
        b = src[pos++]!;
        lit += b;
      } while (b === 255);
    }
    if (pos + lit > src.length || o + lit > size) throw new Error('lz4: literal overruns buffer');
    if (lit <= 32) for (let i = 0; i < lit; i++) out[o + i] = src[pos + i]!;
    else out.set(src.subarray(pos, pos + lit), o);
    pos += lit;
    o += lit;
    if (pos >= src.length) break; // last sequence has literals only
    if (pos + 2 > src.length) throw new Error('lz4: truncated match offset');
    const offset = src[pos]! | (src[pos + 1]! << 8);
    pos += 2;
    let mlen = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (pos >= src.length) throw new Error('lz4: truncated match length');
        b = src[pos++]!;
        mlen += b;
      } while (b === 255);
    }
    if (offset === 0 || offset > o || o + mlen > size) throw new Error('lz4: bad match');
    if (offset >= mlen && mlen > 16) out.copyWithin(o, o - offset, o - offset + mlen);
    else for (let i = 0; i < mlen; i++) out[o + i] = out[o + i - offset]!;
    o += mlen;
  }
  if (o !== size) throw new Error(`lz4: produced ${o} bytes, expected ${size}`);
  return out;
}
