// One entry of a master's BinlogSync push (InnerResponse.binlog_sync[i]) → keepalive or decoded item.
import type { InnerResponseBinlogSync } from '../protocol/messages.ts';
import { decodeBinlogItem, toBinlogPosition, type BinlogItem, type BinlogPosition } from './item.ts';

export type PushedBinlog =
  | { kind: 'keepalive'; dbName: string; sessionId: number }
  | {
      kind: 'item';
      dbName: string;
      sessionId: number;
      item: BinlogItem;
      /** The item's end = the resume point after it; ack and checkpoint with this. */
      end: BinlogPosition;
    };

/**
 * Classifies one pushed entry: an empty `binlog` is a keepalive (pika-protocol.md §5.4.4), anything else must
 * decode as a binlog item (throws `PikaProtocolError` otherwise). The item's buffers are views of the frame.
 */
export function readPushedBinlog(sync: InnerResponseBinlogSync): PushedBinlog {
  const dbName = sync.slot.db_name;
  if (sync.binlog.length === 0) return { kind: 'keepalive', dbName, sessionId: sync.session_id };
  return {
    kind: 'item',
    dbName,
    sessionId: sync.session_id,
    item: decodeBinlogItem(sync.binlog),
    end: toBinlogPosition(sync.binlog_offset),
  };
}
