// One fault class's setting: a test master (2 DBs, pre-filled, small binlog files) under the steady write load, the
// worker CLI as a child process with the Pika connector (initial snapshot, then binlog) writing to the Kafka at
// `bootstrap`, and the measurement of recovery: the time from the end of a fault until the master's acked position
// (the connector acks only what Kafka committed) reaches what the master had written when the fault ended.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startPikaMaster, type PikaMaster } from '../pika-master/index.ts';
import { uniqueName } from '../helpers/kafka.ts';
import { WorkerProcess, readCheckpoint, tempDir, writeProperties } from '../helpers/worker-process.ts';
import { seededRandom } from '../helpers/random.ts';
import { WriteLoad } from './write-load.ts';
import { audit, type AuditInput, type Figures } from './audit.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const liveWorkers = new Set<WorkerProcess>();

/** SIGKILLs every worker process any run started and did not stop yet (for an interrupted suite). */
export function killAllWorkers(): void {
  for (const w of liveWorkers) w.child.kill('SIGKILL');
}

export const exited = (w: WorkerProcess | undefined): boolean => !!w && (w.child.exitCode !== null || w.child.signalCode !== null);
const DBS = [0, 1];

export interface ChaosOptions {
  bootstrap: string;
  seed: number;
  /** Keys written to each DB before the connector starts (what its first snapshot holds). */
  prefillKeys: number;
  writesPerSecond: number;
  /** Master binlog file size (small, so purging whole files behind the connector is possible). */
  binlogFileSize?: number;
  /** Master binlog files kept (expire-logs-nums; default 1000: no purge behind the connector). */
  expireLogsNums?: number;
  /** Extra connector properties. */
  connector?: Record<string, string | number>;
  log?: (line: string) => void;
}

const position = (p: { filenum: number; offset: number }): number => p.filenum * 2 ** 32 + p.offset;

export class ChaosRun {
  readonly random: () => number;
  readonly recoveriesMs: number[] = [];
  readonly workers: WorkerProcess[] = [];
  readonly dir = tempDir('pc-chaos-');
  readonly checkpoints = join(this.dir, 'checkpoints');
  readonly snapshotDir = join(this.dir, 'dumps');
  readonly cluster = uniqueName('chaos');
  readonly connector = uniqueName('pika');
  readonly offsetsTopic = uniqueName('chaos-offsets');
  load!: WriteLoad;
  master!: PikaMaster;
  worker: WorkerProcess | undefined;
  private files!: { worker: string; connector: string };

  constructor(readonly options: ChaosOptions) {
    this.random = seededRandom(options.seed);
  }

  log(line: string): void {
    this.options.log?.(line);
  }

  async start(): Promise<void> {
    this.master = await startPikaMaster({ dbs: 2, binlogFileSize: this.options.binlogFileSize ?? 256 * 1024, expireLogsNums: this.options.expireLogsNums ?? 1000 });
    for (const db of DBS) {
      for (let i = 0; i < this.options.prefillKeys; i++) this.master.exec(db, ['SET', `pre:${i}`, randomBytes(60).toString('base64')]);
      this.master.exec(db, ['HSET', 'pre:hash', ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()]);
      this.master.exec(db, ['RPUSH', 'pre:list', ...Array.from({ length: 300 }, (_, i) => `i${i}`)]);
    }
    this.load = new WriteLoad(() => this.master, this.random, DBS);
    this.files = {
      worker: writeProperties(this.dir, 'worker.properties', {
        'bootstrap.servers': this.options.bootstrap,
        'offset.storage.topic': this.offsetsTopic,
        'offset.storage.partitions': 1,
        'offset.checkpoint.dir': this.checkpoints,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'connector.restart.backoff.max.ms': 3000,
        listeners: 'http://127.0.0.1:0',
      }),
      connector: writeProperties(this.dir, 'connector.properties', {
        name: this.connector,
        'connector.class': 'io.pika.connect.PikaSourceConnector',
        'tasks.max': 1,
        'pika.host': '127.0.0.1',
        'pika.port': this.master.ports.resp,
        'pika.repl.port': this.master.ports.repl,
        'pika.rsync.port': this.master.ports.rsync,
        'source.id': 'chaos',
        cluster: this.cluster,
        'snapshot.mode': 'initial',
        'snapshot.dir': this.snapshotDir,
        'snapshot.max.elements.per.event': 100,
        'poll.max.records': 200,
        'pika.silence.timeout.ms': 3000,
        'topic.creation.default.partitions': 3,
        'errors.retry.delay.max.ms': 2000,
        ...this.options.connector,
      }),
    };
    this.load.start(this.options.writesPerSecond);
  }

  startWorker(): WorkerProcess {
    const worker = new WorkerProcess([this.files.worker, this.files.connector], { KAFKAJS_NO_PARTITIONER_WARNING: '1' });
    this.workers.push(worker);
    liveWorkers.add(worker);
    void worker.wait().then(() => liveWorkers.delete(worker));
    this.worker = worker;
    return worker;
  }

  async killWorker(): Promise<void> {
    if (this.worker && !exited(this.worker)) await this.worker.kill('SIGKILL');
  }

  /** The highest position the master saw acked per DB (acks follow Kafka commits). */
  acked(db: number): number {
    let best = -1;
    for (const node of this.master.repl.dbs[db]!.nodes.values()) {
      if (node.state === 'BinlogSync') best = Math.max(best, position(node.ackedOffset));
    }
    return best;
  }

  /** The master's view of its replicas, for error messages. */
  replicaStates(): string {
    return JSON.stringify(DBS.map((db) => [...this.master.repl.dbs[db]!.nodes.values()].map((n) => `${n.key} ${n.state} acked ${n.ackedOffset.filenum}:${n.ackedOffset.offset}`)));
  }

  written(db: number): number {
    return position(this.master.binlogPosition(db));
  }

  /** Waits until every DB's acked position reached what the master holds now; returns the time it took. */
  async waitCaughtUp(limitMs = 240_000, what = 'catch up'): Promise<number> {
    const started = Date.now();
    const targets = DBS.map((db) => this.written(db));
    for (;;) {
      if (DBS.every((db, i) => this.acked(db) >= targets[i]!)) return Date.now() - started;
      if (exited(this.worker)) throw new Error(`the worker exited (${this.worker!.child.exitCode ?? this.worker!.child.signalCode}) before it could ${what}; log tail:\n${this.worker!.log.slice(-4000)}`);
      if (Date.now() - started > limitMs) throw new Error(`no ${what} within ${limitMs} ms (acked ${DBS.map((d) => this.acked(d))}, written ${targets}; master's replicas ${this.replicaStates()}); log tail:\n${this.worker?.log.slice(-4000)}`);
      await sleep(50);
    }
  }

  /** Ends a fault: measures the recovery (fault end → caught up) and keeps it. */
  async recovered(limitMs?: number): Promise<number> {
    const ms = await this.waitCaughtUp(limitMs, 'recover');
    this.recoveriesMs.push(ms);
    return ms;
  }

  /** The committed offsets of the checkpoint file, per DB ('snapshot' while that DB's snapshot is being emitted). */
  phases(): Map<number, { phase: 'snapshot' | 'binlog'; mark: string }> {
    const out = new Map<number, { phase: 'snapshot' | 'binlog'; mark: string }>();
    for (const { partition, offset } of readCheckpoint(this.checkpoints, this.connector, 0)?.offsets ?? []) {
      out.set(Number(partition.db), { phase: offset.phase === 'snapshot' ? 'snapshot' : 'binlog', mark: JSON.stringify(offset) });
    }
    return out;
  }

  allStreaming(): boolean {
    const p = this.phases();
    return DBS.every((db) => p.get(db)?.phase === 'binlog');
  }

  /** Stops the load, lets the connector catch up, stops it gracefully and audits Kafka. */
  async finish(): Promise<Figures> {
    await this.settle();
    return audit(this.auditInput());
  }

  /** Stops the load, lets the connector catch up and stops it gracefully. */
  async settle(): Promise<void> {
    this.load.stop();
    if (!this.worker || exited(this.worker)) this.startWorker();
    await this.waitCaughtUp(300_000, 'catch up at the end');
    const code = await this.worker!.kill('SIGTERM');
    if (code !== 0) this.log(`graceful stop exited ${code}; log tail:\n${this.worker!.log.slice(-2000)}`);
  }

  auditInput(): AuditInput {
    return {
      written: this.load.written,
      binlogTopic: `pika.${this.cluster}.binlog`,
      snapshotTopic: `pika.${this.cluster}.snapshot`,
      offsetsTopic: this.offsetsTopic,
      connector: this.connector,
      master: this.master,
      dbs: DBS,
    };
  }

  /** Kills what is left, keeps every worker's output in the run's directory (named in the log) and stops the master. */
  async stop(): Promise<void> {
    this.load?.stop();
    for (const w of this.workers) if (!exited(w)) await w.kill('SIGKILL');
    this.workers.forEach((w, i) => writeFileSync(join(this.dir, `worker-${i + 1}.log`), w.log));
    this.log(`   worker logs: ${this.dir}/worker-*.log`);
    await this.master?.stop();
  }

  /** Every worker's output joined, to count log lines (e.g. gap codes). */
  logs(): string {
    return this.workers.map((w) => w.log).join('\n');
  }
}
