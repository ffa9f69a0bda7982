// Legacy (Pika 2.x / 3.0) end-to-end helpers: a worker run reporting a free replica address (the master connects
// back to its port + 1000 for the binlog and + 3000 for a full sync push), and waits on the worker's checkpoint file
// for the committed resume point to reach the master's last item.
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { readCheckpoint } from '../../helpers/worker-process.ts';
import type { PikaMaster } from '../../pika-master/index.ts';
import { freeReplicaPort, pikaRun, sleep, type PikaRun } from './pika-harness.ts';

export interface LegacyRun extends PikaRun {
  replicaPort: number;
  /** Start position of the master's last binlog item (the committed resume point once everything is in Kafka). */
  lastItemStart(): { filenum: number; offset: number } | undefined;
}

export async function legacyRun(master: PikaMaster, props: Record<string, string | number> = {}): Promise<LegacyRun> {
  const replicaPort = await freeReplicaPort([1000, 3000]);
  let last: { filenum: number; offset: number } | undefined;
  master.core.onAppend((_db, appended) => { last = appended.start; });
  const run = pikaRun(master, { 'pika.replica.ip': '127.0.0.1', 'pika.replica.port': replicaPort, 'snapshot.mode': 'initial', ...props });
  return { ...run, replicaPort, lastItemStart: () => last };
}

export function committedResume(run: PikaRun): { filenum: number; offset: number } | undefined {
  const offset = readCheckpoint(run.checkpoints, run.connector, 0)?.offsets.find((o) => Number(o.partition.db) === 0)?.offset;
  if (!offset || offset.resume_filenum === undefined) return undefined;
  return { filenum: Number(offset.resume_filenum), offset: Number(offset.resume_offset) };
}

/** Waits until the committed resume point is the start of the master's last item. */
export async function waitLegacyCaughtUp(run: LegacyRun, worker: WorkerProcess, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const c = committedResume(run);
    const m = run.lastItemStart();
    if (c && m && c.filenum === m.filenum && c.offset === m.offset) return;
    if (worker.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the connector did not catch up (committed ${JSON.stringify(c)}, master's last item at ${JSON.stringify(m)}); log tail:\n${worker.log.slice(-4000)}`);
    }
    await sleep(100);
  }
}
