// One spilled binlog item: what the task needs to rebuild its events and offsets after a restart, when the master
// may be elsewhere in its binlog (or unreachable).
//
//   body = u8 version (1) | u32 LE term | u64 LE index | u8 profile (0 = 4.0, 1 = 3.5)
//        | u16 LE replication-id length (0xffff = null) | replication id (utf8) | binlog item (34-byte header + RESP)
// The entry's db and end position (filenum, offset) are the segment log's frame fields.
import { decodeBinlogItem, encodeBinlogItem, type BinlogItem } from '../binlog/item.ts';
import type { AckPosition } from '../replication/requests.ts';
import type { SpillEntry } from './segment-log.ts';

export interface SpilledItem {
  db: string;
  item: BinlogItem;
  end: AckPosition;
  replicationId: string | null;
  profile: '4.0' | '3.5';
}

const VERSION = 1;
const NULL_ID = 0xffff;

export function encodeSpilledItem(s: SpilledItem): SpillEntry {
  const id = s.replicationId === null ? undefined : Buffer.from(s.replicationId, 'utf8');
  if (id && id.length >= NULL_ID) throw new Error(`replication id too long for the spill log (${id.length} bytes)`);
  const item = encodeBinlogItem({ execTime: s.item.execTime, termId: s.item.termId, logicId: s.item.logicId, start: s.item.start }, s.item.content);
  const head = Buffer.alloc(1 + 4 + 8 + 1 + 2);
  head.writeUInt8(VERSION, 0);
  head.writeUInt32LE(s.end.term >>> 0, 1);
  head.writeBigUInt64LE(BigInt(s.end.index), 5);
  head.writeUInt8(s.profile === '3.5' ? 1 : 0, 13);
  head.writeUInt16LE(id ? id.length : NULL_ID, 14);
  return { db: s.db, end: { filenum: s.end.filenum, offset: s.end.offset }, body: Buffer.concat(id ? [head, id, item] : [head, item]) };
}

/** Decodes a stored entry; a body this version cannot read is an error naming the record. */
export function decodeSpilledItem(entry: SpillEntry, where: string): SpilledItem {
  const { body } = entry;
  const bad = (why: string): never => {
    throw new Error(`spill log record ${where} (${entry.db} ${entry.end.filenum}:${entry.end.offset}) is unreadable: ${why}`);
  };
  if (body.length < 16) bad(`${body.length} bytes, shorter than the record header`);
  if (body.readUInt8(0) !== VERSION) bad(`record version ${body.readUInt8(0)}, this build reads ${VERSION}`);
  const profileCode = body.readUInt8(13);
  if (profileCode > 1) bad(`unknown profile code ${profileCode}`);
  const idLength = body.readUInt16LE(14);
  let at = 16;
  let replicationId: string | null = null;
  if (idLength !== NULL_ID) {
    if (body.length < at + idLength) bad('replication id runs past the record');
    replicationId = body.toString('utf8', at, at + idLength);
    at += idLength;
  }
  const index = body.readBigUInt64LE(5);
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) bad(`index ${index} is over 2^53-1`);
  return {
    db: entry.db,
    item: decodeBinlogItem(body.subarray(at)),
    end: { filenum: entry.end.filenum, offset: entry.end.offset, term: body.readUInt32LE(1), index: Number(index) },
    replicationId,
    profile: profileCode === 1 ? '3.5' : '4.0',
  };
}
