// Helpers of the full-sync end-to-end tests: a worker run with full sync settings, waiting for the snapshots,
// and the consumer-side check (snapshot topic, then binlog topic, replayed = the master's state).
import assert from 'node:assert/strict';
import type { PikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted, type CommittedRecord } from '../../helpers/kafka.ts';
import type { SnapshotPikaEvent } from '../../../connector/pika/snapshot/index.ts';
import { applyEvents, canonical, masterModel, type DbModel } from '../../unit/connector/pika/source/event-model.ts';
import { pikaRun, sleep, type PikaRun } from './pika-harness.ts';
import { readCheckpoint, type WorkerProcess } from '../../helpers/worker-process.ts';

export const events = (records: CommittedRecord[]): SnapshotPikaEvent[] => records.map((r) => JSON.parse(r.value!.toString()) as SnapshotPikaEvent);

export function fullSyncRun(master: PikaMaster, props: Record<string, string | number> = {}): PikaRun {
  return pikaRun(master, { 'snapshot.mode': 'initial', 'pika.rsync.port': master.ports.rsync, 'snapshot.max.elements.per.event': 100, ...props });
}

/** db0's committed snapshot position: the seq of its last committed snapshot event, 'done' after snapshot-end. */
export function snapshotSeq(run: PikaRun): number | 'done' | undefined {
  const o = readCheckpoint(run.checkpoints, run.connector, 0)?.offsets.find((x) => Number(x.partition.db) === 0)?.offset;
  if (!o) return undefined;
  return o.phase === 'snapshot' ? Number(o.seq) : 'done';
}

/** Every DB's committed offset is a binlog offset (its snapshot-end is committed). */
export async function waitSnapshotsDone(run: PikaRun, dbs: number[], worker: WorkerProcess, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const offsets = readCheckpoint(run.checkpoints, run.connector, 0)?.offsets ?? [];
    const done = dbs.every((d) => offsets.some((o) => Number(o.partition.db) === d && o.offset.phase === undefined));
    if (done) return;
    if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`the snapshots did not complete; log tail:\n${worker.log.slice(-4000)}`);
    await sleep(100);
  }
}

/** Applies the snapshot topic, then the binlog topic (per key in binlog order), and compares with the master. */
export async function checkReplay(master: PikaMaster, run: PikaRun, dbs: number[], profile: '4.0' | '3.5'): Promise<SnapshotPikaEvent[]> {
  const snapshot = events(await readAllCommitted(`pika.${run.cluster}.snapshot`));
  const binlog = events(await readAllCommitted(`pika.${run.cluster}.binlog`));
  binlog.sort((a, b) => a.binlog!.filenum - b.binlog!.filenum || a.binlog!.offset - b.binlog!.offset);
  const perPart = new Map<string, number>();
  for (const e of snapshot) {
    const id = `${e.db}:${e.key_b64 ?? e.op}:${e.snapshot.part}`;
    perPart.set(id, (perPart.get(id) ?? 0) + 1);
  }
  assert.deepEqual([...perPart].filter(([, n]) => n !== 1), [], 'every snapshot event (key part, control event) exactly once');
  assert.equal(new Set(binlog.map((e) => e.event_id)).size, binlog.length, 'every binlog event exactly once');
  for (const db of dbs) {
    const end = snapshot.find((e) => e.db === db && e.op === 'snapshot-end');
    assert.ok(end, `db${db}: snapshot-end present`);
    for (const e of binlog.filter((x) => x.db === db)) {
      assert.ok(e.binlog!.filenum * 1e12 + e.binlog!.offset >= end.binlog!.filenum * 1e12 + end.binlog!.offset, `db${db}: binlog events all at or after the dump offset`);
    }
  }
  const models = new Map<number, DbModel>();
  applyEvents(models, snapshot);
  applyEvents(models, binlog);
  for (const db of dbs) {
    assert.deepEqual(canonical(models.get(db) ?? new Map()), canonical(masterModel(master.state(db), profile)), `db${db}: snapshot + binlog replayed = the master`);
  }
  return snapshot;
}

