// Worker thread of the lane pool (lane-pool.ts): decodes the lanes it is given, one at a time, and posts their
// record batches as transferred buffers, never more than `queueBatches` ahead of the consumer's credits.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DumpLayout } from './dump-reader.ts';
import { readLane } from './lanes.ts';
import { RecordWriter } from './record-codec.ts';

export interface WorkerSetup {
  dbDir: string;
  db: string;
  kind: DumpLayout['kind'];
  nowMs: number;
  chunkElements?: number;
  chunkBytes?: number;
  queueBatches: number;
}

export type LaneRequest = { t: 'lane'; lane: number; instance: string; after?: Uint8Array };
type MainMessage = LaneRequest | { t: 'credit' };

export type WorkerMessage =
  | { t: 'batch'; lane: number; buffer: ArrayBuffer; length: number }
  | { t: 'lane-done'; lane: number }
  | { t: 'warning'; message: string }
  | { t: 'error'; lane: number; name: string; message: string; code: string };

if (!isMainThread && parentPort) {
  const port = parentPort;
  const setup = workerData as WorkerSetup;
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let credits = setup.queueBatches;
  let creditWaiter: (() => void) | undefined;
  const lanes: LaneRequest[] = [];
  let busy = false;

  const run = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    const writer = new RecordWriter();
    for (let req = lanes.shift(); req; req = lanes.shift()) {
      const lane = req.lane;
      try {
        const opts = {
          nowMs: setup.nowMs,
          ...(setup.chunkElements !== undefined ? { chunkElements: setup.chunkElements } : {}),
          ...(setup.chunkBytes !== undefined ? { chunkBytes: setup.chunkBytes } : {}),
          onWarning: (message: string) => post({ t: 'warning', message }),
        };
        const task = { lane: { id: req.instance, instance: req.instance }, ...(req.after ? { after: req.after } : {}) };
        for await (const records of readLane(setup.dbDir, setup.db, setup.kind, task, opts)) {
          while (credits === 0) await new Promise<void>((resolve) => (creditWaiter = resolve));
          credits--;
          const { buffer, length } = writer.encode(records);
          post({ t: 'batch', lane, buffer, length }, [buffer]);
        }
        post({ t: 'lane-done', lane });
      } catch (err) {
        const e = err as Error & { code?: string };
        post({ t: 'error', lane, name: e.name ?? 'Error', message: e.message ?? String(err), code: e.code ?? 'PIKA_DUMP_WORKER' });
        break;
      }
    }
    busy = false;
  };

  port.on('message', (m: MainMessage) => {
    if (m.t === 'credit') {
      credits++;
      const w = creditWaiter;
      creditWaiter = undefined;
      w?.();
    } else {
      lanes.push(m);
      void run();
    }
  });
}
