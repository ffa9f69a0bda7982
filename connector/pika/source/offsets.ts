// Source partition and offset of the Pika connector (pika-protocol.md §6.2):
//   partition = { source_id, db }                       (db = DB index, 0 for "db0")
//   offset    = { filenum, offset, logic_id, term, replication_id [, index] }
// filenum/offset = the item's END position (PB binlog_offset): resuming = TrySync + first BinlogSync there.
// `index` (0-based) is present when one item yields several records; a poll never splits an item, so a committed
// offset always covers whole items and resuming after the end position is exact.
import { ConnectError, type SourceOffset, type SourcePartition } from '../../../runtime/api/index.ts';
import type { BinlogPosition } from '../binlog/item.ts';

export interface CommittedPosition extends BinlogPosition {
  logicId: number;
  term: number;
  replicationId: string | null;
}

export const sourcePartition = (sourceId: string, db: number): SourcePartition => ({ source_id: sourceId, db });

export function sourceOffset(end: BinlogPosition, logicId: number, term: number, replicationId: string | null, index: number | undefined): SourceOffset {
  const offset: SourceOffset = { filenum: end.filenum, offset: end.offset, logic_id: logicId, term, replication_id: replicationId };
  if (index !== undefined) offset.index = index;
  return offset;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads a committed offset; throws a clear error when it was not written by this connector's format. */
export function parseCommittedOffset(partition: SourcePartition, offset: SourceOffset): CommittedPosition {
  const { filenum, offset: at, logic_id: logicId, term, replication_id: replicationId } = offset;
  const bad = (what: string): never => {
    throw new ConnectError(`committed offset ${JSON.stringify(offset)} of source partition ${JSON.stringify(partition)} is not a Pika binlog offset: ${what}`, { code: 'PIKA_BAD_OFFSET', stage: 'offsets' });
  };
  if (!isCount(filenum) || filenum > 0xffffffff) bad('filenum must be an integer in 0..2^32-1');
  if (!isCount(at)) bad('offset must be a non-negative integer');
  if (logicId !== undefined && !isCount(logicId)) bad('logic_id must be a non-negative integer');
  if (term !== undefined && !isCount(term)) bad('term must be a non-negative integer');
  if (replicationId !== undefined && replicationId !== null && typeof replicationId !== 'string') bad('replication_id must be a string or null');
  return {
    filenum: filenum as number,
    offset: at as number,
    logicId: (logicId as number | undefined) ?? 0,
    term: (term as number | undefined) ?? 0,
    replicationId: (replicationId as string | null | undefined) ?? null,
  };
}
