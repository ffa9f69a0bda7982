// The change event the Pika connector emits: one per key-level change, whether it comes from the live binlog
// or from the snapshot. This file is the shared contract (Avro schema, snapshot events, source task build on it).
//
// JSON shape, every field always present (null when not applicable), bytes as standard base64:
// {
//   "event_type": "binlog" | "snapshot" | "control",
//   "op":         lower-case command name as written in the binlog ("set", "pksetexat", "hset", "del", "flushdb"…);
//                 snapshot/control producers choose their own ops (document them next to their builders),
//   "data_type":  "string" | "hash" | "list" | "set" | "zset" | "stream" | "generic",
//                 ("generic" = type-agnostic commands: del, expire*, persist, rename, flushdb, …),
//   "db":         Pika DB index (0 for "db0"),
//   "slot":       always null for binlog events: the item does not carry one (PB slot_id is always 0 since 3.5.3)
//                 and the codis slot would depend on the master's default-slot-num setting,
//   "key":        the key as text when it is valid UTF-8, else null; null for keyless commands (flushdb),
//   "key_b64":    the exact key bytes; null for keyless commands,
//   "args_b64":   every argument after the command name, key included (so [op, ...args] replays the command);
//                 when one item is split into several events (multi-key del/mset), only that key's arguments,
//   "raw_resp_b64": the binlog item's whole RESP content (the same for every event split from one item), or null,
//   "ts_ms":      when the master wrote the item (binlog exec_time, second resolution, in ms),
//   "event_id":   "<db>:<term_id>:<filenum>:<offset>:<logic_id>" of the item's start position, plus ":<index>"
//                 when one item yields several events; unique per source (each DB has its own binlog, so the
//                 position alone repeats across DBs),
//   "source_id":  connector-level id of the Pika source (config),
//   "binlog":     item position (see PikaBinlogInfo) or null for snapshot events,
//   "source":     { host, port, replication_id } of the master,
//   "expire_at_ms": absolute expiry (unix ms) set by this event, or null when it sets none. 0 = already expired,
//   "warnings":   machine-readable notes about Pika quirks that were corrected (see WARNING_*), usually []
// }
// Kafka record key: see kafka-keys.ts.

export type PikaEventType = 'binlog' | 'snapshot' | 'control';

export type PikaDataType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream' | 'generic';

/**
 * Which Pika release line the master belongs to; changes how some binlog arguments are read.
 * '4.0': PSETEX writes milliseconds into pksetexat's seconds argument (corrected, with a warning).
 * '3.5': pksetexat/expireat always carry seconds.
 */
export type PikaProfile = '4.0' | '3.5';

export interface PikaBinlogInfo {
  /** Item start position (from the item header): identifies the item. */
  filenum: number;
  offset: number;
  /** Item end position (PB BinlogSync.binlog_offset): the resume point after this item. */
  end_filenum: number;
  end_offset: number;
  logic_id: number;
  /** Pika 3.0.x only (the header's term slot held the server id); null for 3.5/4.0. */
  server_id: number | null;
  term_id: number;
}

export interface PikaSourceInfo {
  host: string;
  port: number;
  /** MetaSync replication_id (3.5.1+), null when the master sent none. */
  replication_id: string | null;
}

export interface PikaEvent {
  event_type: PikaEventType;
  op: string;
  data_type: PikaDataType;
  db: number;
  slot: number | null;
  key: string | null;
  key_b64: string | null;
  args_b64: string[];
  raw_resp_b64: string | null;
  ts_ms: number;
  event_id: string;
  source_id: string;
  binlog: PikaBinlogInfo | null;
  source: PikaSourceInfo;
  expire_at_ms: number | null;
  warnings: string[];
}

/**
 * Pika 4.0.1 PSETEX bug: `pksetexat key <ms> value` where seconds are expected (pika-protocol.md §6.4, §12 #8).
 * The event's expire_at_ms holds the corrected absolute time.
 */
export const WARNING_PSETEX_MILLISECONDS = 'pika-psetex-milliseconds';
/** A relative TTL (expire/pexpire/setex/psetex/set EX…) was made absolute using the item's exec_time (±1 s). */
export const WARNING_RELATIVE_TTL = 'relative-ttl-from-exec-time';
