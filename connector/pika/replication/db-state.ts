// Per-DB state of a PB replication session and its transitions (pika-protocol.md §5.3–§5.4): binlog mode (TrySync →
// BinlogSync → streaming) or dump mode (DBSync, then the caller's finishDump), the resume point, the master's
// session id on the current connection and the ack bookkeeping the keepalive logic reads; and how the set of DBs
// follows the master's MetaSync (which DBs, a changed replication id).
import { BinlogContinuity } from '../binlog/continuity.ts';
import { formatPosition, type BinlogPosition } from '../binlog/item.ts';
import { ReplicationGapError, ReplicationRefusedError } from './errors.ts';
import type { MasterInfo } from './handshake.ts';

export interface DbState {
  name: string;
  /** binlog: TrySync/BinlogSync; dump: DBSync and wait for `finishDump`. */
  mode: 'binlog' | 'dump';
  /** Resume point: end of the last queued item (or the start point). Undefined until the first handshake. */
  resumeFrom: BinlogPosition | undefined;
  sessionId: number | undefined;
  continuity: BinlogContinuity | undefined;
  lastSentAt: number;
  /** Items of the current generation received and not yet acknowledged. */
  unacked: number;
  /** Clock time of the last ack sent, or of the first binlog sync/DBSync before any ack (the master pins binlog). */
  lastAckAt: number | undefined;
}

export interface DbPosition {
  session_id: number | null;
  position: string | null;
  mode: 'binlog' | 'dump';
}

export function newDbState(name: string): DbState {
  return { name, mode: 'binlog', resumeFrom: undefined, sessionId: undefined, continuity: undefined, lastSentAt: 0, unacked: 0, lastAckAt: undefined };
}

/** A new connection: the master knows no session of ours and forgot what we had not acknowledged. */
export function resetForConnection(db: DbState): void {
  db.sessionId = undefined;
  db.continuity = undefined;
  db.unacked = 0;
}

/** The DB needs a full sync (start `dump`, a handshake gap, a new replication id): DBSync on its next handshake. */
export function switchToDump(db: DbState): void {
  db.mode = 'dump';
  db.resumeFrom = undefined;
}

/** The caller emitted the dump taken at `at`: the next handshake continues the binlog right after it. */
export function finishDumpAt(db: DbState, at: BinlogPosition): void {
  db.mode = 'binlog';
  db.resumeFrom = { filenum: at.filenum, offset: at.offset };
  db.sessionId = undefined;
  db.continuity = undefined;
}

/** TrySync at `from` was accepted and the first BinlogSync sent at `now`: pushed items must continue from `from`. */
export function binlogActivated(db: DbState, sessionId: number, from: BinlogPosition, now: number): void {
  db.sessionId = sessionId;
  db.resumeFrom = from;
  db.continuity = new BinlogContinuity(db.name, from);
  db.unacked = 0;
  db.lastSentAt = now;
  db.lastAckAt ??= now;
}

/** DBSync was accepted at `now`: the master dumps the DB and keeps our node (and its binlog) meanwhile. */
export function dumpAccepted(db: DbState, sessionId: number, now: number): void {
  db.sessionId = sessionId;
  db.continuity = undefined;
  db.unacked = 0;
  db.lastSentAt = now;
  db.lastAckAt ??= now;
}

export function positionOf(db: DbState): DbPosition {
  return { session_id: db.sessionId ?? null, position: db.resumeFrom ? formatPosition(db.resumeFrom) : null, mode: db.mode };
}

/** The DBs to replicate (`wanted`, default every DB of the master), added to `dbs` when new. */
export function selectDbs(dbs: Map<string, DbState>, wanted: string[] | undefined, master: MasterInfo): string[] {
  const names = wanted ?? master.dbs;
  const unknown = names.filter((d) => !master.dbs.includes(d));
  if (unknown.length > 0) {
    // Never send requests for DBs the master does not have (RemoveSlaveNode/DBSync would crash a 4.0.1 master).
    throw new ReplicationRefusedError(`pika.dbs names ${unknown.join(', ')}, but the master only has ${master.dbs.join(', ')}`, 'PIKA_UNKNOWN_DB');
  }
  for (const name of names) if (!dbs.has(name)) dbs.set(name, newDbState(name));
  return names;
}

/**
 * MetaSync `info` after `previous`: when the replication id changed, every DB's position belongs to the old id and
 * is a gap. With `onGap` consenting for each, every DB switches to a full sync; otherwise the gap is thrown.
 */
export function followReplicationId(dbs: Map<string, DbState>, previous: MasterInfo | undefined, info: MasterInfo, onGap: ((gap: ReplicationGapError) => boolean) | undefined): void {
  if (!previous || previous.replicationId === info.replicationId) return;
  const states = dbs.size > 0 ? [...dbs.values()] : [undefined];
  for (const state of states) {
    const db = state?.name ?? info.dbs[0]!;
    const gap = new ReplicationGapError('replication-id-changed', db,
      `the master's replication id changed from ${previous.replicationId} to ${info.replicationId} (restored or replaced master): binlog positions of the old id mean nothing now`,
      { requested: state?.resumeFrom });
    if (!state || !onGap?.(gap)) throw gap;
  }
  for (const state of dbs.values()) switchToDump(state);
}
