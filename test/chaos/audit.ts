// The check after a fault class: what the master wrote (its own record, WriteLoad.written, plus its final state)
// against what Kafka holds, read by two independent read_committed consumers (kafkajs and kcat/librdkafka) and by a
// raw read_uncommitted Fetch that sees the transaction markers (raw-log.ts).
//
//   lost        written items neither in the binlog topic nor covered by a later snapshot (a resync after a gap),
//               plus keys whose replay (last snapshot, then the binlog after it) differs from the master's state
//   duplicated  binlog items / snapshot events (event_id) seen more than once
//   out of order a key's binlog events not in binlog order, or spread over several partitions
//   aborted     records a read_committed consumer returned that the broker's log marks as aborted (or still open)
//   torn        a committed transaction only partly visible: a binlog/snapshot record whose covering offset record
//               was not written in the same transaction incarnation, or an offset record without its last record
// The first four are counted per reader; the worst reader's count is reported.
import type { PikaEvent } from '../../connector/pika/events/event.ts';
import { decodeOffsetKey, decodeOffsetValue } from '../../runtime/storage/offset-codec.ts';
import { kcatReadCommitted, readAllCommitted, type CommittedRecord } from '../helpers/kafka.ts';
import { applyEvents, canonical, masterModel, type DbModel } from '../unit/connector/pika/source/event-model.ts';
import type { PikaMaster } from '../pika-master/index.ts';
import { readRawLog, type RawRecord } from './raw-log.ts';
import { positionKey, type WrittenItem } from './write-load.ts';

type SnapshotEvent = PikaEvent & { snapshot?: { dump_uuid: string; part: number } };

export interface Figures {
  written: number;
  inKafka: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  aborted: number;
  torn: number;
  /** Items that were not in the binlog topic because a resync snapshot covers them (documented behaviour). */
  coveredBySnapshot: number;
  /** Snapshots (snapshot-start events) in the snapshot topic. */
  snapshots: number;
  /** First few findings, for the report. */
  notes: string[];
}

export interface AuditInput {
  written: WrittenItem[];
  binlogTopic: string;
  snapshotTopic: string;
  offsetsTopic: string;
  connector: string;
  master: PikaMaster;
  dbs: number[];
  /** The consumers whose reads are checked; default kafkajs and kcat, both read_committed. */
  readers?: Reader[];
}

export interface Reader {
  name: string;
  read(topic: string): Promise<CommittedRecord[]>;
}

export const COMMITTED_READERS: Reader[] = [
  { name: 'kafkajs', read: (topic) => readAllCommitted(topic) },
  { name: 'kcat', read: (topic) => kcatReadCommitted(topic) },
];

const pos = (filenum: number, offset: number): number => filenum * 2 ** 32 + offset;
const parse = (r: { value: Buffer | null }): SnapshotEvent => JSON.parse(r.value!.toString()) as SnapshotEvent;
const endKey = (e: PikaEvent): string => positionKey(e.db, e.binlog!.end_filenum, e.binlog!.end_offset);

/** Per DB, the binlog position of the last snapshot-end (the dump point of the last complete snapshot). */
function lastDumpPoints(snapshot: SnapshotEvent[]): Map<number, { at: number; uuid: string }> {
  const out = new Map<number, { at: number; uuid: string }>();
  for (const e of snapshot) {
    if (e.op !== 'snapshot-end' || !e.binlog) continue;
    const at = pos(e.binlog.filenum, e.binlog.offset);
    if ((out.get(e.db)?.at ?? -1) <= at) out.set(e.db, { at, uuid: e.snapshot!.dump_uuid });
  }
  return out;
}

interface ReaderFigures { lost: number; covered: number; duplicated: number; outOfOrder: number; aborted: number; inKafka: number; notes: string[] }

function checkReader(name: string, input: AuditInput, binlogRecords: CommittedRecord[], snapshotRecords: CommittedRecord[], raw: Map<string, RawRecord>): ReaderFigures {
  const notes: string[] = [];
  const note = (text: string): void => { if (notes.length < 5) notes.push(`${name}: ${text}`); };
  const binlog = binlogRecords.map((r) => ({ r, e: parse(r) }));
  const snapshot = snapshotRecords.map(parse);

  // Duplicates.
  let duplicated = 0;
  const seen = new Map<string, number>();
  for (const { e } of binlog) seen.set(endKey(e), (seen.get(endKey(e)) ?? 0) + 1);
  for (const e of snapshot) seen.set(e.event_id, (seen.get(e.event_id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) { duplicated += n - 1; note(`duplicate ${id} ×${n}`); }

  // Lost: written items missing from the binlog topic and not covered by a later snapshot.
  const dumps = lastDumpPoints(snapshot);
  let lost = 0;
  let covered = 0;
  const written = new Set<string>();
  for (const w of input.written) {
    const id = positionKey(w.db, w.endFilenum, w.endOffset);
    written.add(id);
    if (seen.has(id)) continue;
    if (pos(w.endFilenum, w.endOffset) <= (dumps.get(w.db)?.at ?? -1)) { covered++; continue; }
    lost++;
    note(`lost ${w.op} ${w.key} (db${w.db} ending at ${w.endFilenum}:${w.endOffset})`);
  }
  for (const { e } of binlog) if (!written.has(endKey(e))) { duplicated++; note(`binlog event the load never wrote: ${e.event_id} ${e.op} ${e.key}`); }

  // State: the last complete snapshot of each DB, then the binlog events after its dump point, = the master.
  const models = new Map<number, DbModel>();
  const byPosition = [...binlog].sort((a, b) => pos(a.e.binlog!.filenum, a.e.binlog!.offset) - pos(b.e.binlog!.filenum, b.e.binlog!.offset));
  for (const db of input.dbs) {
    const dump = dumps.get(db);
    try {
      applyEvents(models, snapshot.filter((e) => e.db === db && e.snapshot?.dump_uuid === dump?.uuid && e.event_type !== 'control'));
      applyEvents(models, byPosition.map((x) => x.e).filter((e) => e.db === db && pos(e.binlog!.filenum, e.binlog!.offset) >= (dump?.at ?? 0)));
    } catch (error) {
      lost++;
      note(`db${db} replay failed: ${(error as Error).message}`);
      continue;
    }
    const got = canonical(models.get(db) ?? new Map());
    const want = canonical(masterModel(input.master.state(db), '4.0'));
    for (const key of new Set([...Object.keys(got), ...Object.keys(want)])) {
      if (got[key] === want[key]) continue;
      lost++;
      note(`db${db} key ${Buffer.from(key, 'hex').toString('latin1')}: Kafka replays to ${got[key] ?? 'nothing'}, the master has ${want[key] ?? 'nothing'}`);
    }
  }

  // Order per key (binlog topic): one partition, binlog order within it.
  let outOfOrder = 0;
  const last = new Map<string, { partition: number; at: number }>();
  for (const { r, e } of binlog) {
    const key = `${e.db}:${e.key}`;
    const at = pos(e.binlog!.end_filenum, e.binlog!.end_offset);
    const prev = last.get(key);
    if (prev && (prev.partition !== r.partition || prev.at > at)) { outOfOrder++; note(`key ${key} out of order at ${r.partition}/${r.offset}`); }
    last.set(key, { partition: r.partition, at });
  }

  // Aborted reads: what the reader returned must be committed in the broker's own log.
  let aborted = 0;
  for (const [topic, records] of [[input.binlogTopic, binlogRecords], [input.snapshotTopic, snapshotRecords]] as const) {
    for (const r of records) {
      const fate = raw.get(`${topic}/${r.partition}/${r.offset}`)?.fate ?? 'missing from the log';
      if (fate !== 'committed') { aborted++; note(`read ${topic} ${r.partition}/${r.offset}, which is ${fate}`); }
    }
  }
  return { lost, covered, duplicated, outOfOrder, aborted, inKafka: binlogRecords.length + snapshotRecords.length, notes };
}

/** Torn transactions, from the raw logs: each committed record's covering offset record comes from its incarnation. */
function tornTransactions(input: AuditInput, rawBinlog: RawRecord[], rawSnapshot: RawRecord[], rawOffsets: RawRecord[]): { torn: number; notes: string[] } {
  const notes: string[] = [];
  let torn = 0;
  const finding = (text: string): void => { torn++; if (notes.length < 5) notes.push(`torn: ${text}`); };
  const committed = (records: RawRecord[]) => records.filter((r) => r.fate === 'committed');
  const binlog = committed(rawBinlog).map((r) => ({ r, e: parse(r) }));
  const snapshot = committed(rawSnapshot).map((r) => ({ r, e: parse(r) }));
  // Committed offset records of this connector, per DB: binlog positions and snapshot event ids, with their producer.
  const binlogOffsets = new Map<number, Array<{ at: number; producer: string }>>();
  const snapshotOffsets: Array<{ id: string; producer: string }> = [];
  for (const r of committed(rawOffsets)) {
    const key = decodeOffsetKey(r.key);
    if (!key || key.connector !== input.connector) continue;
    const db = Number(key.partition.db);
    const o = decodeOffsetValue(r.value);
    if (!o) continue;
    if (o.phase === 'snapshot') snapshotOffsets.push({ id: `snapshot:${db}:${String(o.dump_uuid)}:${Number(o.seq)}`, producer: r.producer });
    else {
      const list = binlogOffsets.get(db) ?? [];
      list.push({ at: pos(Number(o.filenum), Number(o.offset)), producer: r.producer });
      binlogOffsets.set(db, list);
    }
  }
  for (const list of binlogOffsets.values()) list.sort((a, b) => a.at - b.at);
  // (a) every committed binlog record: the first committed offset at or after its end is from the same incarnation.
  for (const { r, e } of binlog) {
    const at = pos(e.binlog!.end_filenum, e.binlog!.end_offset);
    const cover = (binlogOffsets.get(e.db) ?? []).find((o) => o.at >= at);
    if (!cover) finding(`binlog record ${r.partition}/${r.offset} (${e.event_id}) has no committed offset record`);
    else if (cover.producer !== r.producer) finding(`binlog record ${r.partition}/${r.offset} (${e.event_id}) by ${r.producer}, its offset by ${cover.producer}`);
  }
  // (b) every committed binlog offset: a record ending there (or the snapshot-end at that dump point), same incarnation.
  const ends = new Map<string, string[]>();
  const addEnd = (id: string, producer: string): void => { ends.set(id, [...(ends.get(id) ?? []), producer]); };
  for (const { r, e } of binlog) addEnd(`${e.db}:${pos(e.binlog!.end_filenum, e.binlog!.end_offset)}`, r.producer);
  for (const { r, e } of snapshot) {
    if (e.op === 'snapshot-end' && e.binlog) {
      addEnd(`${e.db}:${pos(e.binlog.filenum, e.binlog.offset)}`, r.producer);
      addEnd(`${e.db}:${pos(e.binlog.end_filenum, e.binlog.end_offset)}`, r.producer);
    }
  }
  for (const [db, list] of binlogOffsets) {
    for (const o of list) {
      if (!(ends.get(`${db}:${o.at}`) ?? []).includes(o.producer)) finding(`db${db} offset ${o.at} by ${o.producer} without its record`);
    }
  }
  // (c) snapshot offsets name their last event (same event_id), written in the same incarnation, and back.
  const snapshotById = new Map(snapshot.map(({ r, e }) => [e.event_id, r.producer]));
  for (const o of snapshotOffsets) {
    if (snapshotById.get(o.id) !== o.producer) finding(`snapshot offset ${o.id} by ${o.producer}: its event is ${snapshotById.has(o.id) ? `by ${snapshotById.get(o.id)}` : 'not committed'}`);
  }
  const offsetProducers = new Set(committed(rawOffsets).map((r) => r.producer));
  for (const { r, e } of snapshot) {
    if (!offsetProducers.has(r.producer)) finding(`snapshot record ${e.event_id} by ${r.producer}, which committed no offset record`);
  }
  return { torn, notes };
}

export async function audit(input: AuditInput): Promise<Figures> {
  const [rawBinlog, rawSnapshot, rawOffsets] = await Promise.all([readRawLog(input.binlogTopic), readRawLog(input.snapshotTopic), readRawLog(input.offsetsTopic)]);
  const raw = new Map<string, RawRecord>();
  for (const [topic, records] of [[input.binlogTopic, rawBinlog], [input.snapshotTopic, rawSnapshot]] as const) {
    for (const r of records) raw.set(`${topic}/${r.partition}/${r.offset}`, r);
  }
  const readers: ReaderFigures[] = [];
  const chosen = input.readers ?? COMMITTED_READERS;
  for (const reader of chosen) {
    readers.push(checkReader(reader.name, input, await reader.read(input.binlogTopic), await reader.read(input.snapshotTopic), raw));
  }
  const torn = tornTransactions(input, rawBinlog, rawSnapshot, rawOffsets);
  const worst = (f: (r: ReaderFigures) => number): number => Math.max(...readers.map(f));
  const notes = [...readers.flatMap((r) => r.notes), ...torn.notes];
  if (new Set(readers.map((r) => r.inKafka)).size > 1) notes.push(`the readers disagree: ${readers.map((r, i) => `${chosen[i]!.name} ${r.inKafka} records`).join(', ')}`);
  return {
    written: input.written.length,
    inKafka: readers[0]!.inKafka,
    lost: worst((r) => r.lost),
    duplicated: worst((r) => r.duplicated),
    outOfOrder: worst((r) => r.outOfOrder),
    aborted: worst((r) => r.aborted),
    torn: torn.torn,
    coveredBySnapshot: readers[0]!.covered,
    snapshots: rawSnapshot.filter((r) => r.fate === 'committed' && parse(r).op === 'snapshot-start').length,
    notes,
  };
}
