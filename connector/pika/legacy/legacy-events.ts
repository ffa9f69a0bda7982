// Legacy 3.0 binlog item → change events. Wraps events/binlog-events.ts, which reads bytes 6–9 as term_id; in 3.0
// they hold the master's server_id (frame-decoder.ts), so the event gets `binlog.server_id` = that value and
// `term_id` 0, and its event_id `<db>:<server_id>:<filenum>:<offset>:<logic_id>[:<index>]` (the seed design's
// legacy id: server_id in the term slot). 3.0 logs pksetexat/expireat with absolute seconds, like 3.5.
import { binlogItemToEvents, type BinlogEventContext } from '../events/binlog-events.ts';
import type { PikaEvent } from '../events/event.ts';
import type { LegacyBinlogFrame } from './frame-decoder.ts';

export type LegacyEventContext = Omit<BinlogEventContext, 'profile' | 'end' | 'replicationId' | 'db'>;

export function legacyFrameToEvents(frame: LegacyBinlogFrame, ctx: LegacyEventContext): PikaEvent[] {
  // 3.0 has one keyspace (SELECT is accepted but not logged), so every event is db 0.
  const events = binlogItemToEvents(frame.item, { ...ctx, db: 0, profile: '3.5', end: frame.end, replicationId: null });
  return events.map((event) =>
    event.binlog ? { ...event, binlog: { ...event.binlog, server_id: frame.item.serverId, term_id: 0 } } : event);
}
