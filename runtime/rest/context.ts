import type { Worker } from '../worker/worker.ts';
import type { WorkerMetrics } from '../metrics/worker-metrics.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import type { PerKeyQueue } from './per-key-queue.ts';

/** What the REST handlers work on. */
export interface RestContext {
  worker: Worker;
  metrics?: WorkerMetrics;
  logger: RuntimeLogger;
  /** `host:port` of this worker, shown as `worker_id` in statuses. */
  workerId(): string;
  version: { version: string; commit: string };
  /** Serialises the state-changing requests of one connector (keyed by name). */
  lifecycle: PerKeyQueue;
}
