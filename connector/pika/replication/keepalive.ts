// Keeps one streaming PB replication connection alive and checks that the master is (pika-protocol.md §5.4.4,
// timers in clock.ts): every DB with a session gets a request at least every `pingIntervalMs` (a ping when nothing
// else was sent), and a master silent for `silenceTimeoutMs` is treated as dead — anything received counts as life,
// keepalives included, and so does owing it acks (a master whose sync window is full waits for us silently).
import type { SessionClock, SessionTimings } from './clock.ts';
import { ConnectionClosedError, type ReplConnection } from './connection.ts';
import type { DbState } from './db-state.ts';

export interface KeepaliveOptions {
  timings: SessionTimings;
  clock: SessionClock;
  dbs(): Iterable<DbState>;
  /** Received items not yet acknowledged to the master (queued, or taken and not yet acked). */
  owing(): boolean;
  ping(db: DbState): void;
}

export class Keepalive {
  private lastLifeAt: number;
  private ticker: unknown;

  /** Starts ticking on `conn` (which is streaming now) until `stop()` or the connection closes. */
  constructor(private readonly conn: ReplConnection, private readonly o: KeepaliveOptions) {
    this.lastLifeAt = o.clock.now();
    const tick = (): void => {
      this.tick();
      if (!conn.closed) this.ticker = o.clock.setTimeout(tick, this.tickMs());
    };
    this.ticker = o.clock.setTimeout(tick, this.tickMs());
  }

  stop(): void {
    this.o.clock.clearTimeout(this.ticker);
  }

  private tickMs(): number {
    return Math.max(1, Math.min(this.o.timings.pingIntervalMs, this.o.timings.silenceTimeoutMs) / 4);
  }

  /** Pings for DBs without a recent request; the silence check. */
  private tick(): void {
    const { conn, o } = this;
    if (conn.closed) return;
    const now = o.clock.now();
    for (const db of o.dbs()) {
      if (db.sessionId === undefined || now - db.lastSentAt < o.timings.pingIntervalMs) continue;
      o.ping(db);
    }
    if (o.owing()) this.lastLifeAt = now;
    const silentFor = now - Math.max(this.lastLifeAt, conn.lastReceivedAt);
    if (silentFor >= o.timings.silenceTimeoutMs) {
      conn.close(new ConnectionClosedError(`nothing received from the master for ${Math.round(silentFor)} ms (keepalives included): treating it as dead`));
    }
  }
}
