// Worker thread of the lane pool (lane-pool.ts): decodes the lanes it is given, one at a time, and posts their
// records in batches of ~512 KiB as transferred buffers, never more than `queueBatches` ahead of the consumer.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DumpLayout } from './dump-reader.ts';
import { readLane, type DumpLane } from './lanes.ts';
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

export type LaneRequest = { t: 'lane'; lane: number; spec: DumpLane; after?: Uint8Array };
type MainMessage = LaneRequest | { t: 'credit' };

export type WorkerMessage =
  | { t: 'batch'; lane: number; buffer: ArrayBuffer; length: number }
  | { t: 'lane-done'; lane: number }
  | { t: 'warning'; message: string }
  | { t: 'error'; lane: number; name: string; message: string; code: string };

/** Bytes of records per message to the main thread (the queue holds `queueBatches` of them per worker). */
const TRANSFER_BYTES = 512 * 1024;

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
          blockThread: false,
        };
        const task = { lane: req.spec, ...(req.after ? { after: req.after } : {}) };
        // Reader batches are gathered into one message of up to ~TRANSFER_BYTES: fewer messages, less overhead.
        const send = async (): Promise<void> => {
          while (credits === 0) await new Promise<void>((resolve) => (creditWaiter = resolve));
          credits--;
          const { buffer, length } = writer.take();
          post({ t: 'batch', lane, buffer, length }, [buffer]);
        };
        for await (const records of readLane(setup.dbDir, setup.db, setup.kind, task, opts)) {
          writer.add(records);
          if (writer.length >= TRANSFER_BYTES) await send();
        }
        if (writer.length > 0) await send();
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
