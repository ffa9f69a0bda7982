// Runs the worker CLI as a child process with the Pika connector against a test master living in this process,
// and the waits and probes the end-to-end tests share (streaming, caught up, log lines, task status, replica ports).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { PikaMaster } from '../../pika-master/index.ts';
import { bootstrap, uniqueName } from '../../helpers/kafka.ts';
import { WorkerProcess, readCheckpoint, restUrl, tempDir, writeProperties } from '../../helpers/worker-process.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PikaRun {
  dir: string;
  connector: string;
  cluster: string;
  checkpoints: string;
  workerFile: string;
  connectorFile: string;
  start(): WorkerProcess;
}

/** The REST API on a free port (the default 8083 would collide between workers running at once). */
export function pikaRun(master: PikaMaster, connectorProps: Record<string, string | number> = {}): PikaRun {
  const dir = tempDir('pc-pika-');
  const connector = uniqueName('pika');
  const cluster = uniqueName('c');
  const checkpoints = join(dir, 'checkpoints');
  const workerFile = writeProperties(dir, 'worker.properties', {
    'bootstrap.servers': bootstrap(),
    'offset.storage.topic': uniqueName('pika-offsets'),
    'offset.storage.partitions': 1,
    'offset.checkpoint.dir': checkpoints,
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    listeners: 'http://127.0.0.1:0',
  });
  const connectorFile = writeProperties(dir, 'connector.properties', {
    name: connector,
    'connector.class': 'io.pika.connect.PikaSourceConnector',
    'tasks.max': 1,
    'pika.host': '127.0.0.1',
    'pika.port': master.ports.resp,
    'pika.repl.port': master.ports.repl,
    'source.id': 'test-source',
    cluster,
    'snapshot.mode': 'never',
    // Dumps and the rsync daemon's files inside the run's temp dir (the default is data/ under the working directory).
    'snapshot.dir': join(dir, 'dumps'),
    'topic.creation.default.partitions': 3,
    ...connectorProps,
  });
  return { dir, connector, cluster, checkpoints, workerFile, connectorFile, start: () => new WorkerProcess([workerFile, connectorFile]) };
}

/** Every DB's slave node on the master is in BinlogSync (the connector streams; later writes will be captured). */
export async function waitStreaming(master: PikaMaster, dbs: number[], worker: WorkerProcess, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!dbs.every((d) => [...master.repl.dbs[d]!.nodes.values()].some((n) => n.state === 'BinlogSync'))) {
    if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`the connector is not streaming; log tail:\n${worker.log.slice(-4000)}`);
    await sleep(50);
  }
}

/** Committed binlog position per DB from the worker's checkpoint file. */
export function committedPositions(run: PikaRun): Map<number, { filenum: number; offset: number }> {
  const out = new Map<number, { filenum: number; offset: number }>();
  for (const { partition, offset } of readCheckpoint(run.checkpoints, run.connector, 0)?.offsets ?? []) {
    out.set(Number(partition.db), { filenum: Number(offset.filenum), offset: Number(offset.offset) });
  }
  return out;
}

/** Waits until the committed offsets of `dbs` reached the master's binlog end. */
export async function waitCaughtUp(master: PikaMaster, run: PikaRun, dbs: number[], worker: WorkerProcess, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const committed = committedPositions(run);
    const done = dbs.every((d) => {
      const c = committed.get(d);
      const m = master.binlogPosition(d);
      return c !== undefined && c.filenum === m.filenum && c.offset === m.offset;
    });
    if (done) return;
    if (worker.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the connector did not catch up (committed ${JSON.stringify([...committed])}); log tail:\n${worker.log.slice(-4000)}`);
    }
    await sleep(100);
  }
}

/** Waits until the worker log matches `re`. */
export async function waitLog(worker: WorkerProcess, re: RegExp, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!re.test(worker.log)) {
    if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`log never matched ${re}; log tail:\n${worker.log.slice(-4000)}`);
    await sleep(50);
  }
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '0.0.0.0', () => s.close(() => ok(true)));
  });
}

/**
 * A replica port p (reported to the master) with p + each of `shifts` free too: the legacy binlog receiver (+1000),
 * the 3.1–3.4 rsync daemon (+1000), the 3.0 rsync daemon (+3000).
 */
export async function freeReplicaPort(shifts: number[] = [1000, 3000]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    let free = await isFree(port);
    for (const shift of shifts) free &&= await isFree(port + shift);
    if (free) return port;
  }
  throw new Error('no free replica port found');
}

/** A SIGKILLed worker leaves its rsync daemon (own process group) behind: end it through the pid file. */
export function killLeftoverDaemon(run: PikaRun): void {
  try {
    const pid = Number(readFileSync(join(run.dir, 'dumps', 'rsync-push', 'control', 'rsyncd.owner.pid'), 'utf8'));
    if (pid > 1) process.kill(-pid, 'SIGKILL');
  } catch { /* none left */ }
}

/** The URL the worker logged once its REST API listens (pikaRun's listeners use port 0). */
export { restUrl };

/** Task 0's connector-reported status (GET /connectors/<name>/tasks/0/status → connector). */
export async function taskStatus(run: PikaRun, worker: WorkerProcess): Promise<Record<string, unknown>> {
  const response = await fetch(`${await restUrl(worker)}/connectors/${encodeURIComponent(run.connector)}/tasks/0/status`);
  if (response.status !== 200) throw new Error(`task status: HTTP ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { connector?: Record<string, unknown> }).connector ?? {};
}
