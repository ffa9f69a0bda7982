import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ConnectError } from '../../../runtime/api/errors.ts';
import { startBundledWorker } from '../../../runtime/util/ts-worker.ts';
import type { DumpLayout } from './dump-reader.ts';
import { readLane, type LaneTask } from './lanes.ts';
import type { LaneRequest, WorkerMessage, WorkerSetup } from './lane-worker.ts';
import { decodeRecords } from './record-codec.ts';
import type { DumpReaderOptions, DumpRecord } from './types.ts';

/**
 * Records of one lane (`lane` = index into the tasks given to `readLanes`); `done` marks the end of the lane
 * (then `records` is empty).
 */
export interface LaneBatch {
  lane: number;
  records: DumpRecord[];
  done: boolean;
}

export interface LaneReadOptions extends DumpReaderOptions {
  nowMs: number;
  /**
   * Worker threads decoding lanes at once; 1 (default) = in this thread, 0 = the machine's available parallelism.
   * (In one thread by default: on the 2-core machine measured so far the workers' overhead outweighed the gain.)
   */
  threads?: number;
  /**
   * Lanes holding fewer meta SST bytes than this in all (few keys) are decoded in this thread: starting workers
   * would cost more time and memory than they save. A dump of a few huge collections stays in this thread too:
   * each collection is decoded by one lane anyway.
   */
  minParallelBytes?: number;
}

export const DEFAULT_MIN_PARALLEL_BYTES = 32 * 1024 * 1024;
/**
 * Messages (~512 KiB of records each, plus one reader batch) a worker may have decoded ahead of the consumer: its
 * bounded queue. Memory ≈ threads × this × ~1.5 MiB.
 */
const WORKER_QUEUE_BATCHES = 3;

export function defaultDecodeThreads(): number {
  return availableParallelism();
}

/**
 * Reads lanes and hands their records over as they come. In this thread the lanes are read one after the other, in
 * order; with workers up to `threads` lanes are decoded at once and their batches interleave (each lane's own
 * records stay in order). A consumer that stops early (`return`) stops the workers.
 */
export async function* readLanes(dbDir: string, db: string, kind: DumpLayout['kind'], tasks: LaneTask[], opts: LaneReadOptions): AsyncGenerator<LaneBatch> {
  const wanted = opts.threads ?? 1;
  const threads = Math.min(tasks.length, Math.max(1, Math.floor(wanted === 0 ? defaultDecodeThreads() : wanted)));
  const metaBytes = tasks.reduce((n, t) => n + t.lane.metaBytes, 0);
  if (threads <= 1 || metaBytes < (opts.minParallelBytes ?? DEFAULT_MIN_PARALLEL_BYTES)) {
    for (let i = 0; i < tasks.length; i++) {
      for await (const records of readLane(dbDir, db, kind, tasks[i]!, opts)) yield { lane: i, records, done: false };
      yield { lane: i, records: [], done: true };
    }
    return;
  }
  yield* readLanesInWorkers(dbDir, db, kind, tasks, opts, threads);
}

interface Arrival {
  worker: Worker;
  message: WorkerMessage;
}

async function* readLanesInWorkers(
  dbDir: string,
  db: string,
  kind: DumpLayout['kind'],
  tasks: LaneTask[],
  opts: LaneReadOptions,
  threads: number,
): AsyncGenerator<LaneBatch> {
  const setup: WorkerSetup = {
    dbDir,
    db,
    kind,
    nowMs: opts.nowMs,
    ...(opts.chunkElements !== undefined ? { chunkElements: opts.chunkElements } : {}),
    ...(opts.chunkBytes !== undefined ? { chunkBytes: opts.chunkBytes } : {}),
    queueBatches: WORKER_QUEUE_BATCHES,
  };
  const arrivals: Arrival[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const arrived = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const workers: Worker[] = [];
  let nextTask = 0;
  let running = 0;
  const assign = (worker: Worker): void => {
    if (nextTask >= tasks.length) return;
    const i = nextTask++;
    const t = tasks[i]!;
    const request: LaneRequest = { t: 'lane', lane: i, spec: t.lane, ...(t.after ? { after: t.after } : {}) };
    worker.postMessage(request);
    running++;
  };
  try {
    for (let n = 0; n < threads; n++) {
      const worker = await startWorker(setup);
      workers.push(worker);
      worker.on('message', (message: WorkerMessage) => {
        arrivals.push({ worker, message });
        arrived();
      });
      worker.on('error', (err) => {
        failure ??= new ConnectError(`dump decoding worker failed: ${err.message}`, { code: 'PIKA_DUMP_WORKER', stage: 'poll', cause: err });
        arrived();
      });
      worker.on('exit', (code) => {
        if (running > 0) failure ??= new ConnectError(`dump decoding worker exited (code ${code}) with work in progress`, { code: 'PIKA_DUMP_WORKER', stage: 'poll' });
        arrived();
      });
      assign(worker);
    }
    let head = 0;
    while (running > 0 || head < arrivals.length) {
      if (failure) throw failure;
      if (head >= arrivals.length) {
        arrivals.length = 0;
        head = 0;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const { worker, message: m } = arrivals[head++]!;
      switch (m.t) {
        case 'batch': {
          const records = decodeRecords(m.buffer, m.length, db, tasks[m.lane]!.lane.instance);
          worker.postMessage({ t: 'credit' });
          yield { lane: m.lane, records, done: false };
          break;
        }
        case 'lane-done':
          running--;
          assign(worker);
          yield { lane: m.lane, records: [], done: true };
          break;
        case 'warning':
          opts.onWarning?.(m.message);
          break;
        case 'error':
          running--;
          throw Object.assign(new ConnectError(m.message, { code: m.code, stage: 'poll' }), { name: m.name });
      }
    }
    if (failure) throw failure;
  } finally {
    running = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function startWorker(setup: WorkerSetup): Promise<Worker> {
  return startBundledWorker(new URL('./lane-worker.ts', import.meta.url), { workerData: setup });
}
