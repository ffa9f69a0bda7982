// Binlog item → change events. Pure: no I/O, no clock; everything comes from the item and the context.
import type { BinlogItem, BinlogPosition } from '../binlog/item.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import { commandSpec, isInternalCommand, type CommandSpec } from './commands.ts';
import type { PikaEvent, PikaProfile } from './event.ts';
import { computeExpiry } from './expiry.ts';

export interface BinlogEventContext {
  /** DB index of the stream the item came from ("db3" → 3). */
  db: number;
  sourceId: string;
  host: string;
  port: number;
  replicationId: string | null;
  profile: PikaProfile;
  /** The item's end position (PB BinlogSync.binlog_offset). */
  end: BinlogPosition;
  /** Put the item's RESP content into raw_resp_b64 (default true; false → null, e.g. to halve big events). */
  includeRawResp?: boolean;
}

// ignoreBOM: a key starting with EF BB BF keeps those bytes in `key` (by default the decoder drops them).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The key as text when it is valid UTF-8, else null (the exact bytes are always in key_b64). */
export function keyText(key: Uint8Array): string | null {
  // Most keys are ASCII, which reads the same as Latin-1 and needs no validation (TextDecoder costs more per call).
  const buf = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (buf.length <= ASCII_SCAN_LIMIT && isAscii(buf)) return buf.toString('latin1');
  try {
    return utf8.decode(key);
  } catch {
    return null;
  }
}

const ASCII_SCAN_LIMIT = 256;

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

function b64(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64');
}

function commandError(item: BinlogItem, message: string): PikaProtocolError {
  const where = `${item.start.filenum}:${item.start.offset} (logic_id ${item.logicId})`;
  return new PikaProtocolError(`binlog item at ${where}: ${message}`, { code: 'PIKA_BINLOG_COMMAND' });
}

/** One key's share of the command: [key, arguments after the command name]. */
type KeyedArgs = { key: Buffer | null; args: Buffer[] };

function splitByKey(item: BinlogItem, spec: CommandSpec, op: string): KeyedArgs[] {
  const rest = item.argv.slice(1);
  switch (spec.keys) {
    case 'none':
      return [{ key: null, args: rest }];
    case 'first':
      return [{ key: rest[0]!, args: rest }];
    case 'each':
      return rest.map((key) => ({ key, args: [key] }));
    case 'pairs': {
      if (rest.length % 2 !== 0) throw commandError(item, `${op} needs key/value pairs, got ${rest.length} arguments`);
      const out: KeyedArgs[] = [];
      for (let i = 0; i < rest.length; i += 2) out.push({ key: rest[i]!, args: [rest[i]!, rest[i + 1]!] });
      return out;
    }
    default:
      return [{ key: item.argv[spec.keys]!, args: rest }];
  }
}

/** An event and the exact bytes of its key (null for keyless commands), for the Kafka keys. */
export interface KeyedEvent {
  event: PikaEvent;
  key: Buffer | null;
}

/**
 * Maps one decoded binlog item to its events (usually one; several for multi-key commands; none for Pika's
 * internal padding/dummy items). Throws `PikaProtocolError` for an unknown command, too few arguments or a
 * malformed TTL — never returns a placeholder event.
 */
export function binlogItemToEvents(item: BinlogItem, ctx: BinlogEventContext): PikaEvent[] {
  return binlogItemToKeyedEvents(item, ctx).map((e) => e.event);
}

/** As `binlogItemToEvents`, each event with its key bytes. */
export function binlogItemToKeyedEvents(item: BinlogItem, ctx: BinlogEventContext): KeyedEvent[] {
  const op = item.argv[0]!.toString('latin1').toLowerCase();
  if (isInternalCommand(op)) return [];
  const spec = commandSpec(op);
  if (!spec) throw commandError(item, `unknown command ${JSON.stringify(op.slice(0, 64))}`);
  if (item.argv.length < spec.minArgc) {
    throw commandError(item, `${op} needs at least ${spec.minArgc - 1} arguments, got ${item.argv.length - 1}`);
  }
  const expiry = spec.expiry ? computeExpiry(spec.expiry, item.argv, item.execTime, ctx.profile) : undefined;
  const parts = splitByKey(item, spec, op);
  // Each DB has its own binlog, so positions repeat across DBs: the DB makes the id unique within a source.
  const baseId = `${ctx.db}:${item.termId}:${item.start.filenum}:${item.start.offset}:${item.logicId}`;
  const raw = ctx.includeRawResp === false ? null : b64(item.content);
  const source = { host: ctx.host, port: ctx.port, replication_id: ctx.replicationId };
  const events: KeyedEvent[] = [];
  for (let index = 0; index < parts.length; index++) {
    const { key, args } = parts[index]!;
    const keyB64 = key ? b64(key) : null;
    const argsB64: string[] = [];
    for (const arg of args) argsB64.push(arg === key ? keyB64! : b64(arg));
    const event: PikaEvent = {
      event_type: 'binlog',
      op,
      data_type: spec.dataType,
      db: ctx.db,
      slot: null,
      key: key ? keyText(key) : null,
      key_b64: keyB64,
      args_b64: argsB64,
      raw_resp_b64: raw,
      ts_ms: item.execTime * 1000,
      event_id: parts.length > 1 ? `${baseId}:${index}` : baseId,
      source_id: ctx.sourceId,
      binlog: {
        filenum: item.start.filenum,
        offset: item.start.offset,
        end_filenum: ctx.end.filenum,
        end_offset: ctx.end.offset,
        logic_id: item.logicId,
        server_id: null,
        term_id: item.termId,
      },
      // One object per event: consumers of the events may mutate them.
      source: index === 0 ? source : { ...source },
      expire_at_ms: expiry ? expiry.expireAtMs : null,
      warnings: expiry && expiry.warnings.length > 0 ? [...expiry.warnings] : [],
    };
    events.push({ event, key });
  }
  return events;
}

/** "db0" → 0; throws on anything else (DB names come from the master's MetaSync reply). */
export function dbIndexFromName(name: string): number {
  const match = /^db(\d{1,5})$/.exec(name);
  if (!match) throw new PikaProtocolError(`unexpected DB name ${JSON.stringify(name)}, expected "db<N>"`);
  return Number(match[1]);
}
