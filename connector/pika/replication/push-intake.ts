// The items of one pushed BinlogSync message for a DB whose binlog sync is active (pika-protocol.md §5.4.2): each
// is decoded, checked to continue right after the previous one, and handed on with its ack position; keepalives
// (empty binlog) are only counted.
import { BinlogGapError } from '../binlog/continuity.ts';
import { readPushedBinlog } from '../binlog/binlog-sync.ts';
import type { BinlogItem } from '../binlog/item.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import type { InnerResponseBinlogSync } from '../protocol/messages.ts';
import type { DbState } from './db-state.ts';
import { ReplicationGapError } from './errors.ts';
import type { AckPosition } from './requests.ts';

/**
 * Hands every item of `entries` to `onItem` in order and moves `db`'s resume point past it; returns how many there
 * were (0: a keepalive-only message). Throws a ReplicationGapError at the first item that does not continue the
 * previous one (those before it were handed on).
 */
export function intakePush(
  db: DbState,
  entries: InnerResponseBinlogSync[],
  stats: { keepalivesReceived: number },
  onItem: (item: BinlogItem, end: AckPosition) => void,
): number {
  let items = 0;
  for (const entry of entries) {
    const pushed = readPushedBinlog(entry);
    if (pushed.kind === 'keepalive') {
      stats.keepalivesReceived++;
      continue;
    }
    if (!db.continuity) throw new PikaProtocolError(`${db.name}: binlog item pushed before the binlog sync was activated`);
    try {
      db.continuity.accept(pushed.item.start, pushed.end);
    } catch (error) {
      if (!(error instanceof BinlogGapError)) throw error;
      throw new ReplicationGapError('discontinuity', db.name, `items were lost between two pushed items: ${error.message}`, { requested: error.expected });
    }
    const end: AckPosition = {
      filenum: pushed.end.filenum,
      offset: pushed.end.offset,
      term: entry.binlog_offset.term ?? pushed.item.termId,
      index: entry.binlog_offset.index === undefined ? pushed.item.logicId : Number(entry.binlog_offset.index),
    };
    onItem(pushed.item, end);
    db.resumeFrom = pushed.end;
    db.unacked++;
    items++;
  }
  return items;
}
