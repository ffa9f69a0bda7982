/**
 * The test master in its own process for benchmarks (so its CPU does not skew the runtime's figures).
 *
 *   npx tsx bench/helpers/pika-master-process.ts <preload-items> [value-bytes]
 *
 * Starts a 4.0 test master in a temp dir, writes `preload-items` SETs (keys `k<n mod 10000>`) in one batch, then
 * prints one JSON line: {"ready":true, resp, repl, dir, replicationId, preloaded, preloadMs, end:{filenum,offset}}.
 * Commands on stdin, one per line:
 *   load <rate> <seconds>   SETs at `rate`/s for `seconds`, each key `lat-<write time in µs since the epoch>`;
 *                           prints {"loaded":n, "ms":elapsed} when done
 *   rss                     prints {"rss": bytes}
 *   cpu                     prints {"cpuMicros": user+system CPU time of this process so far}
 *   stop                    stops the master, deletes its dir and exits
 */
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startPikaMaster } from '../../test/pika-master/index.ts';

const preload = Number(process.argv[2] ?? 0);
const valueBytes = Number(process.argv[3] ?? 100);
if (!Number.isSafeInteger(preload) || preload < 0) throw new Error(`preload items must be a non-negative integer, got '${process.argv[2]}'`);

const master = await startPikaMaster({ dbs: 1, profile: '4.0' });
const value = Buffer.alloc(valueBytes, 'v');
const t0 = performance.now();
master.core.batch(() => {
  for (let i = 0; i < preload; i++) master.core.exec(0, ['SET', `k${i % 10000}`, value]);
});
const preloadMs = performance.now() - t0;
const end = master.binlogPosition(0);
const say = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
say({
  ready: true, resp: master.ports.resp, repl: master.ports.repl, dir: master.dir, replicationId: master.core.replicationId,
  preloaded: preload, preloadMs, end: { filenum: end.filenum, offset: end.offset },
});

/** Wall clock in µs with sub-ms resolution, comparable across processes of one machine. */
export const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

async function load(rate: number, seconds: number): Promise<void> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let written = 0;
  while (written < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; written < due; written++) master.core.exec(0, ['SET', `lat-${nowMicros()}`, value]);
    await new Promise((r) => setTimeout(r, 1));
  }
  say({ loaded: written, ms: performance.now() - start });
}

async function stop(): Promise<void> {
  await master.stop();
  rmSync(master.dir, { recursive: true, force: true });
  process.exit(0);
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === 'load') await load(Number(a), Number(b));
  else if (cmd === 'rss') say({ rss: process.memoryUsage().rss });
  else if (cmd === 'cpu') say({ cpuMicros: process.cpuUsage().user + process.cpuUsage().system });
  else if (cmd === 'stop') await stop();
  else process.stderr.write(`pika-master-process: unknown command '${line}'\n`);
}
await stop();
