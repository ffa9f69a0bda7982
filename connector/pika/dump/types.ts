/**
 * Logical records produced from a Pika full-sync dump, in a streamed form: strings are one record; a collection is
 * `key-start`, zero or more `elements` chunks and `key-end`, so a huge hash never sits in memory at once.
 * Byte strings are Uint8Array (keys, fields and values are binary-safe in Pika).
 */
export type CollectionType = 'hash' | 'set' | 'zset' | 'list' | 'stream';
export type PikaDataType = 'string' | CollectionType;

/**
 * Where a key sits in the dump. `instance` is the RocksDB instance directory under the DB directory: `0`, `1`, …
 * for Floyd (4.x), the type database (`strings`, `hashes`, …) for Blackwidow (3.x). Keys are visited in a fixed
 * order (instances in `DumpReaderOptions.instanceOrder` order, keys in each instance's meta order), so
 * "everything up to and including this position" is a valid resume point.
 */
export interface KeyPosition {
  db: string;
  instance: string;
  key: Uint8Array;
}

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface HashField {
  field: Uint8Array;
  value: Uint8Array;
}
export interface ZSetMember {
  member: Uint8Array;
  /** Exact IEEE-754 double as stored. */
  score: number;
}
export interface StreamEntry {
  id: StreamId;
  /** field1, value1, field2, value2, … */
  fieldsAndValues: Uint8Array[];
}

export interface StreamMeta {
  lastId: StreamId;
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: bigint;
  groupsId: number;
}

export interface StringRecord {
  kind: 'string';
  pos: KeyPosition;
  value: Uint8Array;
  /** Absolute expiry in unix milliseconds, or null when the key has no TTL. */
  expireAtMs: number | null;
  /** Pika HyperLogLog: `value` is Pika's own register array, not a Redis HLL. */
  hyperloglog: boolean;
}

export interface KeyStartRecord {
  kind: 'key-start';
  pos: KeyPosition;
  type: CollectionType;
  expireAtMs: number | null;
  /** Element count recorded in the key's meta value. */
  count: number;
  stream?: StreamMeta;
}

export type ElementsRecord =
  | { kind: 'elements'; pos: KeyPosition; type: 'hash'; items: HashField[] }
  | { kind: 'elements'; pos: KeyPosition; type: 'set'; items: Uint8Array[] }
  | { kind: 'elements'; pos: KeyPosition; type: 'zset'; items: ZSetMember[] }
  /** List elements in order, head to tail. */
  | { kind: 'elements'; pos: KeyPosition; type: 'list'; items: Uint8Array[] }
  /** Stream entries in id order. */
  | { kind: 'elements'; pos: KeyPosition; type: 'stream'; items: StreamEntry[] };

export interface KeyEndRecord {
  kind: 'key-end';
  pos: KeyPosition;
  type: CollectionType;
  /** Number of elements emitted for this key. */
  emitted: number;
}

export type DumpRecord = StringRecord | KeyStartRecord | ElementsRecord | KeyEndRecord;

export interface DumpReaderOptions {
  /** Liveness instant: keys with an expiry at or before it are skipped. Default: Date.now() at start. */
  nowMs?: number;
  /** Resume strictly after this key (same db, instance and key as a previously emitted position). */
  after?: { instance: string; key: Uint8Array };
  /** Only the keys whose raw meta key is in [from, until) (bytewise), for a lane of the instance (lanes.ts). */
  range?: { from?: Uint8Array; until?: Uint8Array };
  /** Maximum elements per `elements` chunk (default 512). */
  chunkElements?: number;
  /** Soft maximum bytes per `elements` chunk (default 1 MiB). */
  chunkBytes?: number;
  /** Non-fatal findings: torn WAL tail, skipped 3.x streams database, meta count differing from data. */
  onWarning?: (message: string) => void;
  /**
   * Verify and decompress the data blocks of big SSTs on a helper thread while this one decodes (default: when the
   * machine has more than one CPU core): faster with a spare core, at the cost of the thread's memory
   * (`snapshot.decode.block.thread`).
   */
  blockThread?: boolean;
  /** SSTs smaller than this are read in the decoding thread even with the block thread (default 1 MiB; tests lower it). */
  blockThreadMinFileBytes?: number;
}
