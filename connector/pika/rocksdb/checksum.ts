import { createXXHash3, createXXHash32, createXXHash64, type IHasher } from 'hash-wasm';

/**
 * Block and record checksums (RocksDB `table/format.cc` ComputeBuiltinChecksumWithLastByte, `util/crc32c.h`).
 * ChecksumType ids: 0 none, 1 crc32c, 2 xxHash32, 3 xxHash64, 4 XXH3.
 */
export const ChecksumType = { none: 0, crc32c: 1, xxHash: 2, xxHash64: 3, xxh3: 4 } as const;

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array, initial = 0): number {
  let c = ~initial >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** RocksDB stores `Mask(crc)` so that a CRC of data containing CRCs is not degenerate. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

type Hashers = { xxh3?: IHasher; xxh32?: IHasher; xxh64?: IHasher };
const hashers: Hashers = {};
const loading = new Map<keyof Hashers, Promise<void>>();
const HASHER_OF: Partial<Record<number, { name: keyof Hashers; create: () => Promise<IHasher> }>> = {
  [ChecksumType.xxHash]: { name: 'xxh32', create: createXXHash32 },
  [ChecksumType.xxHash64]: { name: 'xxh64', create: createXXHash64 },
  [ChecksumType.xxh3]: { name: 'xxh3', create: createXXHash3 },
};

/**
 * Loads the WASM hasher of checksum type `type` (once per thread; each costs ~2 MiB, and a dump uses one type);
 * must be awaited before `blockChecksum` is used with that type.
 */
export function initChecksum(type: number): Promise<void> {
  const h = HASHER_OF[type];
  if (!h) return Promise.resolve();
  let p = loading.get(h.name);
  if (!p) {
    p = h.create().then((hasher) => void (hashers[h.name] = hasher));
    p.catch(() => loading.delete(h.name)); // a failed load is tried again by the next table
    loading.set(h.name, p);
  }
  return p;
}

function hashLow32(h: IHasher, data: Uint8Array): number {
  h.init();
  h.update(data);
  const d = h.digest('binary'); // canonical big-endian digest
  const n = d.length;
  return ((d[n - 4]! << 24) | (d[n - 3]! << 16) | (d[n - 2]! << 8) | d[n - 1]!) >>> 0;
}

/**
 * Checksum of a block as stored in its 5-byte trailer: computed over `data` followed by `lastByte` (the
 * compression type byte). Returns undefined for checksum type `none`.
 */
export function blockChecksum(type: number, data: Uint8Array, lastByte: number): number | undefined {
  switch (type) {
    case ChecksumType.none:
      return undefined;
    case ChecksumType.crc32c: {
      const c = crc32c(new Uint8Array([lastByte]), crc32c(data));
      return (((c >>> 15) | (c << 17)) + MASK_DELTA) >>> 0;
    }
    case ChecksumType.xxHash:
    case ChecksumType.xxHash64: {
      const h = requireHasher(type === ChecksumType.xxHash ? 'xxh32' : 'xxh64');
      h.init();
      h.update(data);
      h.update(new Uint8Array([lastByte]));
      const d = h.digest('binary');
      const n = d.length;
      return ((d[n - 4]! << 24) | (d[n - 3]! << 16) | (d[n - 2]! << 8) | d[n - 1]!) >>> 0;
    }
    case ChecksumType.xxh3: {
      const v = hashLow32(requireHasher('xxh3'), data);
      return (v ^ Math.imul(lastByte, 0x6b9083d9)) >>> 0;
    }
    default:
      throw new Error(`unsupported checksum type ${type}`);
  }
}

/** Extra term added to block checksums from format_version 6 on (`ChecksumModifierForContext`). */
export function checksumContextModifier(baseContextChecksum: number, offset: number): number {
  if (baseContextChecksum === 0) return 0;
  const lo = offset >>> 0;
  const hi = Math.floor(offset / 2 ** 32) >>> 0;
  return (baseContextChecksum ^ ((lo + hi) >>> 0)) >>> 0;
}

function requireHasher(name: keyof Hashers): IHasher {
  const h = hashers[name];
  if (!h) throw new Error(`initChecksum() was not awaited for ${name}`);
  return h;
}
