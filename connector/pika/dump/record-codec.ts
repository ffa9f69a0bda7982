import { bytesEqual } from '../rocksdb/coding.ts';
import type { CollectionType, DumpRecord, HashField, KeyPosition, StreamEntry, StreamMeta, ZSetMember } from './types.ts';

/**
 * A batch of dump records as one flat buffer, so a decoding worker can hand it to the main thread by transfer
 * (no structured clone of thousands of small byte arrays). Decoded records are views of that buffer.
 *
 *   record = kind u8 ‖ key bytes ‖ fields of the kind (below)
 *   bytes  = length u32 LE ‖ bytes;  number = f64 LE (null as NaN);  bigint = u64 LE
 */
const KIND = { string: 0, 'key-start': 1, elements: 2, 'key-end': 3 } as const;
const TYPES: CollectionType[] = ['hash', 'set', 'zset', 'list', 'stream'];
const TYPE_CODE: Record<CollectionType, number> = { hash: 0, set: 1, zset: 2, list: 3, stream: 4 };

export class RecordWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes encoded since the last `take`. */
  get length(): number {
    return this.at;
  }

  add(records: DumpRecord[]): void {
    for (const r of records) this.record(r);
  }

  /** Encodes a batch (`add` + `take`). */
  encode(records: DumpRecord[]): { buffer: ArrayBuffer; length: number } {
    this.add(records);
    return this.take();
  }

  /** The records added so far; the buffer belongs to the caller (transfer it), the writer starts a new one. */
  take(): { buffer: ArrayBuffer; length: number } {
    const out = { buffer: this.buf.buffer as ArrayBuffer, length: this.at };
    this.buf = new Uint8Array(Math.max(64 * 1024, Math.min(this.at + (this.at >> 2), 4 << 20)));
    this.view = new DataView(this.buf.buffer);
    this.at = 0;
    return out;
  }

  private record(r: DumpRecord): void {
    this.u8(KIND[r.kind]);
    this.bytes(r.pos.key);
    switch (r.kind) {
      case 'string':
        this.bytes(r.value);
        this.num(r.expireAtMs);
        this.u8(r.hyperloglog ? 1 : 0);
        return;
      case 'key-start':
        this.u8(TYPE_CODE[r.type]);
        this.num(r.expireAtMs);
        this.num(r.count);
        this.u8(r.stream ? 1 : 0);
        if (r.stream) this.streamMeta(r.stream);
        return;
      case 'key-end':
        this.u8(TYPE_CODE[r.type]);
        this.num(r.emitted);
        return;
      case 'elements':
        this.u8(TYPE_CODE[r.type]);
        this.u32(r.items.length);
        switch (r.type) {
          case 'hash':
            for (const h of r.items) {
              this.bytes(h.field);
              this.bytes(h.value);
            }
            return;
          case 'zset':
            for (const z of r.items) {
              this.bytes(z.member);
              this.num(z.score);
            }
            return;
          case 'stream':
            for (const e of r.items) {
              this.u64(e.id.ms);
              this.u64(e.id.seq);
              this.u32(e.fieldsAndValues.length);
              for (const b of e.fieldsAndValues) this.bytes(b);
            }
            return;
          default:
            for (const b of r.items) this.bytes(b);
        }
    }
  }

  private streamMeta(s: StreamMeta): void {
    for (const id of [s.lastId, s.firstId, s.maxDeletedId]) {
      this.u64(id.ms);
      this.u64(id.seq);
    }
    this.u64(s.entriesAdded);
    this.u32(s.groupsId);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  private u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }

  private u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.at, v, true);
    this.at += 8;
  }

  private num(v: number | null): void {
    this.room(8);
    this.view.setFloat64(this.at, v === null ? NaN : v, true);
    this.at += 8;
  }

  private bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.at + 4 + n > this.buf.length) this.room(4 + n);
    const buf = this.buf;
    let o = this.at;
    buf[o++] = n & 0xff;
    buf[o++] = (n >>> 8) & 0xff;
    buf[o++] = (n >>> 16) & 0xff;
    buf[o++] = n >>> 24;
    if (n <= 16) for (let i = 0; i < n; i++) buf[o + i] = b[i]!;
    else buf.set(b, o);
    this.at = o + n;
  }
}

/**
 * Decodes a batch written by RecordWriter; byte strings are Uint8Array views of `buffer` (kept alive by them; a
 * plain view costs less to make than a Buffer one, and consumers accept either).
 */
export function decodeRecords(buffer: ArrayBuffer, length: number, db: string, instance: string): DumpRecord[] {
  const buf = new Uint8Array(buffer, 0, length);
  const view = new DataView(buffer, 0, length);
  let at = 0;
  const out: DumpRecord[] = [];
  const u8 = (): number => buf[at++]!;
  const u32 = (): number => {
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const u64 = (): bigint => {
    const v = view.getBigUint64(at, true);
    at += 8;
    return v;
  };
  const num = (): number => {
    const v = view.getFloat64(at, true);
    at += 8;
    return v;
  };
  const nullable = (): number | null => {
    const v = num();
    return Number.isNaN(v) ? null : v;
  };
  const bytes = (): Uint8Array => {
    const n = u32();
    if (at + n > length) throw new Error(`record batch truncated at ${at}`);
    const b = new Uint8Array(buffer, at, n);
    at += n;
    return b;
  };
  const type = (): CollectionType => {
    const t = TYPES[u8()];
    if (!t) throw new Error(`record batch has a bad type code at ${at - 1}`);
    return t;
  };
  let pos: KeyPosition | undefined;
  while (at < length) {
    const kind = u8();
    const key = bytes();
    // Records of one key share its position object, as the in-thread readers' records do.
    if (!pos || !bytesEqual(key, pos.key)) pos = { db, instance, key };
    switch (kind) {
      case KIND.string: {
        const value = bytes();
        const expireAtMs = nullable();
        out.push({ kind: 'string', pos, value, expireAtMs, hyperloglog: u8() === 1 });
        break;
      }
      case KIND['key-start']: {
        const t = type();
        const expireAtMs = nullable();
        const count = num();
        const stream = u8() === 1 ? streamMeta() : undefined;
        out.push({ kind: 'key-start', pos, type: t, expireAtMs, count, ...(stream ? { stream } : {}) });
        break;
      }
      case KIND['key-end']:
        out.push({ kind: 'key-end', pos, type: type(), emitted: num() });
        break;
      case KIND.elements: {
        const t = type();
        const n = u32();
        out.push({ kind: 'elements', pos, type: t, items: elementItems(t, n) } as DumpRecord);
        break;
      }
      default:
        throw new Error(`record batch has a bad record kind ${kind} at ${at - 1}`);
    }
  }
  return out;

  function streamMeta(): StreamMeta {
    const id = () => ({ ms: u64(), seq: u64() });
    const lastId = id();
    const firstId = id();
    const maxDeletedId = id();
    return { lastId, firstId, maxDeletedId, entriesAdded: u64(), groupsId: u32() };
  }

  function elementItems(t: CollectionType, n: number): unknown[] {
    const items: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) {
      switch (t) {
        case 'hash': {
          const field = bytes();
          items[i] = { field, value: bytes() } satisfies HashField;
          break;
        }
        case 'zset': {
          const member = bytes();
          items[i] = { member, score: num() } satisfies ZSetMember;
          break;
        }
        case 'stream': {
          const ms = u64();
          const seq = u64();
          const m = u32();
          const fieldsAndValues: Uint8Array[] = new Array(m);
          for (let j = 0; j < m; j++) fieldsAndValues[j] = bytes();
          items[i] = { id: { ms, seq }, fieldsAndValues } satisfies StreamEntry;
          break;
        }
        default:
          items[i] = bytes();
      }
    }
    return items;
  }
}

