import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { parseConnectorProps } from '../runtime/config/index.ts';
import { demoBootstrap, demoWorkerConfig } from './demo-worker.ts';
import { bundledPlugins } from '../runtime/bundled-plugins.ts';
import { createRootLogger } from '../runtime/util/logger.ts';
import { sleep } from '../runtime/util/backoff.ts';
import { Worker } from '../runtime/worker/worker.ts';
import { startPikaMaster, type PikaMaster } from '../test/pika-master/index.ts';

/** A small mixed write load: every data type, two DBs, expiries and deletes. */
function demoCommand(i: number): { db: number; argv: string[] } {
  const user = `user:${i % 50}`;
  switch (i % 10) {
    case 0: return { db: 0, argv: ['SET', user, `name-${i}`] };
    case 1: return { db: 0, argv: ['HSET', `profile:${i % 50}`, 'visits', String(i)] };
    case 2: return { db: 0, argv: ['LPUSH', 'events', `e${i}`] };
    case 3: return { db: 0, argv: ['SADD', 'tags', `t${i % 7}`] };
    case 4: return { db: 0, argv: ['ZADD', 'leaderboard', String(i % 100), user] };
    case 5: return { db: 0, argv: ['INCR', 'counter'] };
    case 6: return { db: 0, argv: ['EXPIRE', user, '3600'] };
    case 7: return { db: 1, argv: ['XADD', 'audit', '*', 'n', String(i)] };
    case 8: return { db: 1, argv: ['MSET', `a:${i % 9}`, '1', `b:${i % 9}`, '2'] };
    default: return { db: 0, argv: ['DEL', `user:${(i + 25) % 50}`] };
  }
}

/**
 * The embedded demo: a protocol-faithful Pika master (in this process) under a small write load, streamed by the
 * Pika source connector into a local Kafka exactly once. Prints progress, sample events and a final check.
 */
export async function runPikaDemo(options: { seconds: number; rate: number }): Promise<number> {
  const bootstrap = demoBootstrap();
  if (!bootstrap) return 2;
  const out = (line: string): void => void process.stdout.write(line + '\n');
  const runId = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const cluster = `demo-${runId}`;
  mkdirSync('.cache/demo', { recursive: true });
  const master: PikaMaster = await startPikaMaster({ dbs: 2, profile: '4.0' });
  out(`demo: Pika master (test fixture, 4.0 profile) on 127.0.0.1:${master.ports.resp}, replication on ${master.ports.repl}`);

  const plugins = bundledPlugins();
  const worker = demoWorkerConfig(bootstrap, { 'offset.flush.interval.ms': '200' });
  const connector = parseConnectorProps({
    name: `pika-demo-${runId}`,
    'connector.class': 'io.pika.connect.PikaSourceConnector',
    'pika.host': '127.0.0.1',
    'pika.port': String(master.ports.resp),
    'pika.repl.port': String(master.ports.repl),
    'source.id': 'demo-master',
    cluster,
    'snapshot.mode': 'never',
    'transaction.boundary': 'interval',
    'topic.creation.default.partitions': '3',
  }, (cls) => plugins.connector(cls), { source: 'demo connector' });
  const topic = `pika.${cluster}.binlog`;
  const w = new Worker(worker, plugins, createRootLogger((process.env.PIKA_CONNECT_LOG_LEVEL as 'warn') ?? 'warn'));
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await w.start([connector]);
    while (![0, 1].every((db) => [...master.repl.dbs[db]!.nodes.values()].some((n) => n.state === 'BinlogSync'))) {
      if (stop.signal.aborted) return 130;
      await sleep(50);
    }
    out(`demo: connector ${connector.name} is streaming the binlog of db0 and db1 into ${topic}; writing ${options.rate} commands/s for ${options.seconds}s`);
    let written = 0;
    const started = Date.now();
    let nextReport = started + 2000;
    while (!stop.signal.aborted && Date.now() - started < options.seconds * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
      for (; written < due; written++) {
        const { db, argv } = demoCommand(written);
        master.exec(db, argv);
      }
      if (Date.now() >= nextReport) {
        nextReport += 2000;
        const task = w.connector(connector.name)!.taskMetrics()[0]?.metrics;
        out(`master wrote ${written} commands; Kafka committed ${task?.recordsCommitted ?? 0} events in ${task?.transactionsCommitted ?? 0} transactions`);
      }
      await sleep(20, stop.signal);
    }
    out('demo: load stopped; waiting until the connector has committed the master\'s last binlog position');
    const deadline = Date.now() + 30_000;
    const checkpoint = `.cache/demo/checkpoints/${connector.name}-0.json`;
    const caughtUp = (): boolean => {
      if (!existsSync(checkpoint)) return false;
      const committed = (JSON.parse(readFileSync(checkpoint, 'utf8')) as { offsets: Array<{ partition: { db: unknown }; offset: { filenum: unknown; offset: unknown } }> }).offsets;
      return [0, 1].every((db) => {
        const m = master.binlogPosition(db);
        const c = committed.find((o) => Number(o.partition.db) === db);
        return c !== undefined && Number(c.offset.filenum) === m.filenum && Number(c.offset.offset) === m.offset;
      });
    };
    while (!caughtUp() && Date.now() < deadline && !stop.signal.aborted) await sleep(200);
  } finally {
    await w.stop();
    await master.stop();
  }
  const records = await w.client.readCommitted(topic);
  const ids = new Set<string>();
  const perDb = new Map<number, number>();
  for (const r of records) {
    const e = JSON.parse(r.value!.toString()) as { event_id: string; db: number; op: string; key: string | null };
    ids.add(e.event_id);
    perDb.set(e.db, (perDb.get(e.db) ?? 0) + 1);
  }
  out('sample events (key → value):');
  for (const r of records.slice(0, 5)) out(`  ${r.key?.toString()} → ${r.value!.toString().slice(0, 160)}…`);
  out(`demo: ${records.length} events in ${topic} (db0 ${perDb.get(0) ?? 0}, db1 ${perDb.get(1) ?? 0}), ${ids.size} distinct event ids`);
  const ok = ids.size === records.length && records.length > 0;
  out(ok ? 'demo: every event is in Kafka exactly once.' : 'demo: verification FAILED (duplicates or nothing written)');
  return ok ? 0 : 1;
}
