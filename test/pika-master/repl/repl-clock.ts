// Replication timers with Pika 4.0.1's defaults (include/pika_rm.h, src/pika_repl_server_thread.cc),
// all divided by `timeScale` so tests can run a 20 s drop in 200 ms (timeScale 100). timeScale 1 = Pika.

export interface ReplTimings {
  /** kSendKeepAliveTimeout: keepalive to an idle slave after 2 s without a send. */
  keepaliveMs: number;
  /** kRecvKeepAliveTimeout: slave node removed after 20 s without a BinlogSync request. */
  recvTimeoutMs: number;
  /** Replication listener closes connections idle (nothing read) for 180 s. */
  idleCloseMs: number;
  /** Auxiliary thread period (~100 ms). */
  auxPeriodMs: number;
}

export function scaledTimings(timeScale: number): ReplTimings {
  if (!(timeScale > 0)) throw new Error(`timeScale must be > 0, got ${timeScale}`);
  return {
    keepaliveMs: 2000 / timeScale,
    recvTimeoutMs: 20000 / timeScale,
    idleCloseMs: 180000 / timeScale,
    auxPeriodMs: Math.max(1, 100 / timeScale),
  };
}

export const monotonicMs = (): number => performance.now();
