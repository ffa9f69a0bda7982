// The request/reply steps of a session's handshake and how their replies are read (pika-protocol.md §5.1, §5.2).
import type { BinlogPosition } from '../binlog/item.ts';
import { toBinlogPosition } from '../binlog/item.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import { InnerType, StatusCode, TrySyncReplyCode, type InnerResponse, type PbNode } from '../protocol/messages.ts';
import type { ReplConnection } from './connection.ts';
import { ReplicationGapError, ReplicationRefusedError } from './errors.ts';
import { dbSyncRequest, trySyncRequest } from './requests.ts';

export interface MasterInfo {
  /** Null when the master sent none (before 3.5.1) or an empty one. */
  replicationId: string | null;
  runId: string | null;
  /** DB names in the master's order ("db0", "db1", …). */
  dbs: string[];
  /** '3.5' when MetaSync lacks db_instance_num (masters before 4.0). */
  profile: '4.0' | '3.5';
}

/**
 * Where a DB starts on the first connection: after a position, at the master's current end (a new replica), or
 * with a full sync (`dump`: DBSync, then the caller downloads the dump and calls `finishDump` with its offset).
 */
export type StartPoint = BinlogPosition | 'current' | 'dump';

/** Reads a MetaSync reply with code kOk. */
export function parseMasterInfo(reply: InnerResponse): MasterInfo {
  const meta = reply.meta_sync;
  if (!meta) throw new PikaProtocolError('MetaSync reply kOk without its meta_sync part');
  const dbsInfo = meta.dbs_info ?? [];
  if (dbsInfo.length === 0) throw new PikaProtocolError('MetaSync reply lists no DB');
  return {
    replicationId: meta.replication_id ? meta.replication_id : null,
    runId: meta.run_id ? meta.run_id : null,
    dbs: dbsInfo.map((d) => d.db_name),
    profile: dbsInfo[0]!.db_instance_num === undefined ? '3.5' : '4.0',
  };
}

/** A MetaSync reply other than kOk / kOther ("Slave AlreadyExist"): wrong password or another refusal. */
export function metaSyncRefusal(reply: InnerResponse): ReplicationRefusedError {
  const text = reply.reply ?? '';
  const auth = /auth/i.test(text);
  return new ReplicationRefusedError(
    `the master refused MetaSync: ${JSON.stringify(text)}${auth ? " (check pika.password: it must equal the master's requirepass)" : ''}`,
    auth ? 'PIKA_AUTH' : 'PIKA_REPL_REFUSED',
  );
}

export interface TrySyncReply {
  code: number;
  /** The master's current binlog end (every offset-check reply carries it). */
  master: BinlogPosition | undefined;
  sessionId: number | undefined;
}

/** Sends TrySync for `db` at `at`; an outer refusal ("DB not found") throws. */
export async function trySync(conn: ReplConnection, node: PbNode, db: string, timeoutMs: number, at: BinlogPosition): Promise<TrySyncReply> {
  const reply = await conn.request(trySyncRequest(node, db, at), InnerType.kTrySync, timeoutMs);
  if (reply.code !== StatusCode.kOk) throw new ReplicationRefusedError(`${db}: the master refused TrySync: ${JSON.stringify(reply.reply ?? '')}`, 'PIKA_TRYSYNC_REFUSED');
  const ts = reply.try_sync;
  if (!ts) throw new PikaProtocolError(`${db}: TrySync reply kOk without its try_sync part`);
  return { code: ts.reply_code, master: ts.binlog_offset ? toBinlogPosition(ts.binlog_offset) : undefined, sessionId: ts.session_id };
}

/** Sends DBSync for `db` (§5.3); the master answers at once (before the dump exists) with the node's session id. */
export async function dbSync(conn: ReplConnection, node: PbNode, db: string, timeoutMs: number): Promise<number> {
  const reply = await conn.request(dbSyncRequest(node, db, { filenum: 0, offset: 0 }), InnerType.kDBSync, timeoutMs);
  if (reply.code !== StatusCode.kOk) throw new ReplicationRefusedError(`${db}: the master refused DBSync: ${JSON.stringify(reply.reply ?? '')}`, 'PIKA_DBSYNC_REFUSED');
  const sessionId = reply.db_sync?.session_id;
  if (sessionId === undefined) throw new PikaProtocolError(`${db}: DBSync reply kOk without a session_id`);
  return sessionId;
}

/** The session id of a kOk TrySync reply; every other reply code is a typed gap (never retried). */
export function sessionOrGap(db: string, from: BinlogPosition, reply: TrySyncReply): number {
  const positions = { requested: from, master: reply.master };
  switch (reply.code) {
    case TrySyncReplyCode.kOk:
      if (reply.sessionId === undefined) throw new PikaProtocolError(`${db}: TrySync kOk without a session_id`);
      return reply.sessionId;
    case TrySyncReplyCode.kSyncPointBePurged:
      throw new ReplicationGapError('purged', db, 'the master has purged the binlog file holding this position (TrySync kSyncPointBePurged)', positions);
    case TrySyncReplyCode.kSyncPointLarger:
      throw new ReplicationGapError('larger', db, "the position lies beyond the master's binlog (TrySync kSyncPointLarger): the master was replaced or rolled back", positions);
    case TrySyncReplyCode.kError:
      throw new ReplicationGapError('not-boundary', db, 'the master answered TrySync kError: the position is not an item boundary in its binlog (or it could not read its binlog)', positions);
    default:
      throw new PikaProtocolError(`${db}: unknown TrySync reply code ${reply.code}`);
  }
}
