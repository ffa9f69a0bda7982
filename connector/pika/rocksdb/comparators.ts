import { compareBytes, readU32, readI32, readF64 } from './coding.ts';

/** A user-key comparator, as named in the MANIFEST (`Comparator::Name()`). */
export interface UserComparator {
  readonly name: string;
  compare(a: Uint8Array, b: Uint8Array): number;
}

export const bytewiseComparator: UserComparator = { name: 'leveldb.BytewiseComparator', compare: compareBytes };

/** End of Pika's escaped user key (`SeekUserkeyDelim`): position just after the first `00 00`, or `len`. */
export function seekUserKeyDelimiter(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] === 0) {
      if (buf[i + 1] === 0) return i + 2;
      i++; // skip the escaped byte of `00 01`
    }
  }
  return buf.length;
}

/** Numeric comparison of two u64 LE fields, without BigInt: most significant byte first. */
function compareU64LE(a: Uint8Array, pa: number, b: Uint8Array, pb: number): number {
  for (let i = 7; i >= 0; i--) {
    const d = (a[pa + i] ?? 0) - (b[pb + i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Pika 4.x `floyd.ListsDataKeyComparator` (`src/storage/src/custom_comparator.h@v4.0.1`): reserve(8) ‖ EK(key)
 * compared bytewise, then version u64 LE numerically, then index u64 LE numerically; a key that ends earlier
 * sorts first.
 */
export const floydListsDataKeyComparator: UserComparator = {
  name: 'floyd.ListsDataKeyComparator',
  compare(a, b) {
    const ea = seekUserKeyDelimiter(a, 8);
    const eb = seekUserKeyDelimiter(b, 8);
    const c = compareBytes(a.subarray(0, ea), b.subarray(0, eb));
    if (c !== 0) return c;
    return compareNumericTail(a, ea, b, eb, [8, 8]);
  },
};

/**
 * Pika 4.x `floyd.ZSetsScoreKeyComparator`: reserve(8) bytewise, decoded user key bytewise, version bytes, score
 * as a double, then the rest (member ‖ reserve2) bytewise.
 */
export const floydZSetsScoreKeyComparator: UserComparator = {
  name: 'floyd.ZSetsScoreKeyComparator',
  compare(a, b) {
    let c = compareBytes(a.subarray(0, 8), b.subarray(0, 8));
    if (c !== 0) return c;
    const ka = decodeEscapedKey(a, 8);
    const kb = decodeEscapedKey(b, 8);
    c = compareBytes(ka.key, kb.key);
    if (c !== 0) return c;
    c = compareBytes(a.subarray(ka.end, ka.end + 8), b.subarray(kb.end, kb.end + 8));
    if (c !== 0) return c;
    const sa = readF64(a, ka.end + 8);
    const sb = readF64(b, kb.end + 8);
    if (sa !== sb) return sa < sb ? -1 : 1;
    return compareBytes(a.subarray(ka.end + 16), b.subarray(kb.end + 16));
  },
};

/**
 * Blackwidow / Pika 3.x `blackwidow.ListsDataKeyComparator`: key_len u32 LE ‖ key compared by key bytes, then
 * version as i32, then index u64.
 */
export const blackwidowListsDataKeyComparator: UserComparator = {
  name: 'blackwidow.ListsDataKeyComparator',
  compare(a, b) {
    const la = readU32(a, 0);
    const lb = readU32(b, 0);
    const c = compareBytes(a.subarray(4, 4 + la), b.subarray(4, 4 + lb));
    if (c !== 0) return c;
    const pa = 4 + la;
    const pb = 4 + lb;
    const endA = pa === a.length;
    const endB = pb === b.length;
    if (endA || endB) return endA && endB ? 0 : endA ? -1 : 1;
    const va = readI32(a, pa);
    const vb = readI32(b, pb);
    if (va !== vb) return va < vb ? -1 : 1;
    const endA2 = pa + 4 === a.length;
    const endB2 = pb + 4 === b.length;
    if (endA2 || endB2) return endA2 && endB2 ? 0 : endA2 ? -1 : 1;
    return compareU64LE(a, pa + 4, b, pb + 4);
  },
};

/**
 * Blackwidow `blackwidow.ZSetsScoreKeyComparator`: key_len ‖ key ‖ version (bytewise prefix), score as a
 * double, then member bytewise.
 */
export const blackwidowZSetsScoreKeyComparator: UserComparator = {
  name: 'blackwidow.ZSetsScoreKeyComparator',
  compare(a, b) {
    const pa = readU32(a, 0) + 8;
    const pb = readU32(b, 0) + 8;
    const c = compareBytes(a.subarray(0, pa), b.subarray(0, pb));
    if (c !== 0) return c;
    const sa = readF64(a, pa);
    const sb = readF64(b, pb);
    if (sa !== sb) return sa < sb ? -1 : 1;
    return compareBytes(a.subarray(pa + 8), b.subarray(pb + 8));
  },
};

/** Compares successive fixed-width u64 LE fields after the key prefix; a key ending earlier sorts first. */
function compareNumericTail(a: Uint8Array, pa: number, b: Uint8Array, pb: number, widths: number[]): number {
  for (const w of widths) {
    const endA = pa >= a.length;
    const endB = pb >= b.length;
    if (endA || endB) return endA && endB ? 0 : endA ? -1 : 1;
    const c = compareU64LE(a, pa, b, pb);
    if (c !== 0) return c;
    pa += w;
    pb += w;
  }
  return 0;
}

function decodeEscapedKey(buf: Uint8Array, from: number): { key: Uint8Array; end: number } {
  const out: number[] = [];
  let i = from;
  while (i + 1 < buf.length) {
    if (buf[i] === 0) {
      if (buf[i + 1] === 0) return { key: Uint8Array.from(out), end: i + 2 };
      out.push(0);
      i += 2;
    } else out.push(buf[i++]!);
  }
  return { key: Uint8Array.from(out), end: buf.length };
}

const KNOWN: UserComparator[] = [
  bytewiseComparator,
  floydListsDataKeyComparator,
  floydZSetsScoreKeyComparator,
  blackwidowListsDataKeyComparator,
  blackwidowZSetsScoreKeyComparator,
];

/** Looks up a comparator by its MANIFEST name; unknown names are an error (order would be guessed). */
export function comparatorByName(name: string): UserComparator {
  const c = KNOWN.find((k) => k.name === name);
  if (!c) throw new Error(`unsupported comparator "${name}"`);
  return c;
}
