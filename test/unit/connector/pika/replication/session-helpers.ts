// Shared helpers for the replication session tests: a recording logger, a session against the in-process test
// master, and waiting for conditions without timing assertions.
import type { Logger } from '../../../../../runtime/api/index.ts';
import { ReplicationSession, type ReceivedItem, type ReplicationSessionOptions } from '../../../../../connector/pika/replication/session.ts';
import { scaledSessionTimings } from '../../../../../connector/pika/replication/clock.ts';
import { AckTracker, type TrackedItem } from '../../../../../connector/pika/replication/ack-tracker.ts';

export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => { lines.push({ level, msg, fields }); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 10 ms; fails with `what` after `limitMs` (a generous bound, not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Timer scale shared by the test master (`timeScale`) and the session: Pika's 2 s/20 s become 200 ms/2 s. */
export const SCALE = 10;

export function newSession(port: number, overrides: Partial<ReplicationSessionOptions> = {}): ReplicationSession & { log: LogLine[] } {
  const logger = recordingLogger();
  const session = new ReplicationSession({
    host: '127.0.0.1',
    port,
    start: () => ({ filenum: 0, offset: 0 }),
    logger,
    timings: scaledSessionTimings(SCALE),
    ...overrides,
  });
  return Object.assign(session, { log: logger.lines });
}

/**
 * Consumes items like the source task does: takes them, "commits" them, then acknowledges the committed prefix.
 * `commit` = false leaves them unacknowledged (as when Kafka has not committed yet).
 */
export class Consumer {
  readonly items: ReceivedItem[] = [];
  private readonly tracker = new AckTracker();

  constructor(private readonly session: ReplicationSession) {}

  private uncommitted: TrackedItem[] = [];

  async takeSome(commit = true): Promise<ReceivedItem[]> {
    const got = await this.session.take(1000, 50);
    this.items.push(...got);
    this.uncommitted.push(...got.map((r) => this.tracker.track(r.db, r.generation, r.end, 1)));
    if (commit) this.commitPending();
    return got;
  }

  /** Everything taken so far is now "in Kafka": acknowledge it. */
  commitPending(): void {
    for (const t of this.uncommitted.splice(0)) this.tracker.committed(t);
    for (const range of this.tracker.drain()) this.session.acknowledge(range.db, range.generation, range.start, range.end, range.items);
  }

  async until(count: number, what = `${count} items`): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (this.items.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${this.items.length}`);
      await this.takeSome();
    }
  }

  commands(db?: string): string[] {
    return this.items.filter((i) => db === undefined || i.db === db).map((i) => i.item.argv.map((a) => a.toString()).join(' '));
  }
}
