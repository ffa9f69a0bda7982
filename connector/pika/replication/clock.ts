// Time source and timer settings of a replication session, injectable so tests can run Pika's 20 s timers fast.

export interface SessionClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SessionClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SessionTimings {
  /** Longest time without a request to the master for one DB; a ping (ack 0:0..0:0) is sent then. ≤ 5 s. */
  pingIntervalMs: number;
  /**
   * Nothing received for this long while nothing of ours is unacknowledged → the master is considered dead and the
   * session reconnects. Keepalives count as life. Pika's slave uses 20 s (SyncSlaveDB::CheckSyncTimeout).
   */
  silenceTimeoutMs: number;
  /** Wait between MetaSync attempts answered with `Slave AlreadyExist` (Pika's slave: 10 s). */
  alreadyExistRetryMs: number;
  /** First and largest wait before reconnecting after a lost connection (doubles in between). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** TCP connect and request/reply timeout (MetaSync, TrySync, RemoveSlaveNode). */
  requestTimeoutMs: number;
}

export const DEFAULT_TIMINGS: SessionTimings = {
  pingIntervalMs: 2000,
  silenceTimeoutMs: 20000,
  alreadyExistRetryMs: 2000,
  reconnectMinMs: 500,
  reconnectMaxMs: 10000,
  requestTimeoutMs: 10000,
};

/** Pika's timers divided by `scale` (tests pair it with the test master's `timeScale`). */
export function scaledSessionTimings(scale: number): SessionTimings {
  const t = DEFAULT_TIMINGS;
  return {
    pingIntervalMs: t.pingIntervalMs / scale,
    silenceTimeoutMs: t.silenceTimeoutMs / scale,
    alreadyExistRetryMs: t.alreadyExistRetryMs / scale,
    reconnectMinMs: t.reconnectMinMs / scale,
    reconnectMaxMs: t.reconnectMaxMs / scale,
    requestTimeoutMs: Math.max(2000, t.requestTimeoutMs / scale),
  };
}
