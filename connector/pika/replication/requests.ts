// The requests a replica sends on the replication port (pika-protocol.md §5.1–§5.5), every required field set.
// Only DB names the master listed in MetaSync may be passed here: DBSync/RemoveSlaveNode for an unknown DB crash
// a real 4.0.1 master (§12 #1) — the session checks names before calling these.
import { InnerType, type InnerRequestInput, type PbNode } from '../protocol/messages.ts';
import type { BinlogPosition } from '../binlog/item.ts';

/** A position as sent back to the master: filenum/offset as received, term/index of the item (ignored by the window). */
export interface AckPosition extends BinlogPosition {
  term: number;
  index: number;
}

const ZERO: AckPosition = { filenum: 0, offset: 0, term: 0, index: 0 };
const slot = (dbName: string) => ({ db_name: dbName, slot_id: 0 });

export function metaSyncRequest(node: PbNode, auth: string | undefined): InnerRequestInput {
  return { type: InnerType.kMetaSync, meta_sync: auth ? { node, auth } : { node } };
}

export function trySyncRequest(node: PbNode, dbName: string, from: BinlogPosition): InnerRequestInput {
  return { type: InnerType.kTrySync, try_sync: { node, slot: slot(dbName), binlog_offset: { filenum: from.filenum, offset: from.offset } } };
}

function binlogSync(node: PbNode, dbName: string, sessionId: number, start: AckPosition, end: AckPosition, firstSend: boolean): InnerRequestInput {
  return {
    type: InnerType.kBinlogSync,
    binlog_sync: { node, db_name: dbName, slot_id: 0, ack_range_start: start, ack_range_end: end, session_id: sessionId, first_send: firstSend },
  };
}

/** Activation: the master starts sending after `from` (start = end, term/index 0). */
export function firstBinlogSyncRequest(node: PbNode, dbName: string, sessionId: number, from: BinlogPosition): InnerRequestInput {
  const at = { filenum: from.filenum, offset: from.offset, term: 0, index: 0 };
  return binlogSync(node, dbName, sessionId, at, at, true);
}

/** Acknowledges every item from the one ending at `start` to the one ending at `end`, both included. */
export function ackRequest(node: PbNode, dbName: string, sessionId: number, start: AckPosition, end: AckPosition): InnerRequestInput {
  return binlogSync(node, dbName, sessionId, start, end, false);
}

/** Keeps the slave node alive on the master (refreshes last_recv_time); the answer to a keepalive. */
export function pingRequest(node: PbNode, dbName: string, sessionId: number): InnerRequestInput {
  return binlogSync(node, dbName, sessionId, ZERO, ZERO, false);
}

/**
 * Asks for a dump of `dbName` (§5.3). `from` is TryDBSync's `top`: filenum 0 lets a 4.0 / 3.5.5 master reuse its
 * last dump when that is still usable (older 3.5 masters always make a new one for it).
 */
export function dbSyncRequest(node: PbNode, dbName: string, from: BinlogPosition): InnerRequestInput {
  return { type: InnerType.kDBSync, db_sync: { node, slot: slot(dbName), binlog_offset: { filenum: from.filenum, offset: from.offset } } };
}

export function removeSlaveNodeRequest(node: PbNode, dbName: string): InnerRequestInput {
  return { type: InnerType.kRemoveSlaveNode, remove_slave_node: [{ node, slot: slot(dbName) }] };
}
