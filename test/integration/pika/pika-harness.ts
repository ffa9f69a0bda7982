// Runs the worker CLI as a child process with the Pika connector against a test master living in this process.
import { join } from 'node:path';
import type { PikaMaster } from '../../pika-master/index.ts';
import { bootstrap, uniqueName } from '../../helpers/kafka.ts';
import { WorkerProcess, readCheckpoint, tempDir, writeProperties } from '../../helpers/worker-process.ts';

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
