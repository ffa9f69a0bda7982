// A Pika replica's PB replication session (pika-protocol.md §5): one TCP connection to the master's replication
// port carrying every DB. Per connection: MetaSync (retried while the master still knows our previous connection:
// `Slave AlreadyExist`), then per DB TrySync → first BinlogSync → streaming. Pushed items are decoded, checked for
// continuity and queued for `take()`; keepalives are answered with pings, and every DB gets a request at least
// every `pingIntervalMs`. A lost connection or a master silent for `silenceTimeoutMs` (keepalives count as life;
// a master waiting for our acks is allowed to be silent) leads to a reconnect that resumes every DB after the last
// item queued. Gaps and refusals stop the session for good: `take()` then throws them — unless `onGap` turns a
// DB's handshake gap into a full sync.
//
// Full sync (§5.3, §5.7, §7.4): a DB whose start is `dump` gets DBSync instead of TrySync. Its node then stays in
// the master's DbSync state (binlog purge protection) while this session keeps pinging it and answering keepalives;
// the caller downloads and emits the dump, then calls `finishDump` with the dump's offset: TrySync there → first
// BinlogSync → streaming, on the same connection. A reconnect meanwhile sends DBSync again.
//
// Acks are the caller's: `acknowledge()` sends a range once the caller's sink has made those items durable. The
// master's sync window (default 9000 items per DB) therefore bounds what it sends ahead of the sink; the queue here
// is bounded too (reading pauses above `maxQueuedItems`).
//
// Per-DB state and its transitions live in db-state.ts, the pings and the silence check in keepalive.ts, the
// decoding and continuity check of pushed items in push-intake.ts.
import type { Logger } from '../../../runtime/api/index.ts';
import { formatPosition, type BinlogItem, type BinlogPosition } from '../binlog/item.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import { InnerType, StatusCode, type InnerResponse, type PbNode } from '../protocol/messages.ts';
import { ConnectError } from '../../../runtime/api/index.ts';
import { DEFAULT_TIMINGS, systemClock, type SessionClock, type SessionTimings } from './clock.ts';
import { ItemQueue } from './item-queue.ts';
import { ConnectionClosedError, ReplConnection } from './connection.ts';
import {
  binlogActivated, dumpAccepted, finishDumpAt, followReplicationId, positionOf, resetForConnection, selectDbs, switchToDump, type DbPosition, type DbState,
} from './db-state.ts';
import { ReplicationGapError } from './errors.ts';
import { dbSync, metaSyncRefusal, parseMasterInfo, sessionOrGap, trySync, type MasterInfo, type StartPoint } from './handshake.ts';
import { Keepalive } from './keepalive.ts';
import { intakePush } from './push-intake.ts';

export type { MasterInfo, StartPoint } from './handshake.ts';
import {
  ackRequest, firstBinlogSyncRequest, metaSyncRequest, pingRequest, removeSlaveNodeRequest, type AckPosition,
} from './requests.ts';

export interface ReceivedItem {
  db: string;
  /** Connection generation the item arrived on; acks of an older generation are dropped. */
  generation: number;
  item: BinlogItem;
  /** The item's end as received (PB binlog_offset): resume point, checkpoint and ack value. */
  end: AckPosition;
}

export interface ReplicationSessionOptions {
  host: string;
  /** The master's replication port (RESP port + 2000). */
  port: number;
  password?: string;
  /** Identity announced in every request; default = local address and port of the current socket. */
  identity?: PbNode;
  /** DBs to replicate; default every DB of MetaSync. */
  dbs?: string[];
  /** Decides each DB's start on the first successful MetaSync; may throw (e.g. a ReplicationGapError). */
  start(db: string, master: MasterInfo): StartPoint;
  logger: Logger;
  timings?: Partial<SessionTimings>;
  clock?: SessionClock;
  /** Reading from the socket pauses while this many items wait for `take()` (default 20000). */
  maxQueuedItems?: number;
  /**
   * Awaited before each DBSync of `db` is sent (a 3.1–3.4 master pushes the dump to our rsync daemon, which must be
   * up and empty first). A ConnectError thrown here ends the session.
   */
  beforeDbSync?(db: string, master: MasterInfo): Promise<void>;
  /** A DB in `dump` mode got its DBSync accepted on connection `generation` (again after each reconnect). */
  onDumpAccepted?(db: string, generation: number): void;
  /**
   * A handshake gap of one DB (TrySync purged/larger/not-boundary). Returning true switches that DB to a full sync
   * (DBSync on the same connection) instead of failing the session.
   */
  onGap?(gap: ReplicationGapError): boolean;
}

export interface SessionStats {
  connects: number;
  reconnects: number;
  alreadyExistRetries: number;
  itemsReceived: number;
  keepalivesReceived: number;
  pingsSent: number;
  acksSent: number;
  itemsAcked: number;
  staleMessagesIgnored: number;
  acksDropped: number;
}

export class ReplicationSession {
  readonly stats: SessionStats = {
    connects: 0, reconnects: 0, alreadyExistRetries: 0, itemsReceived: 0, keepalivesReceived: 0, pingsSent: 0,
    acksSent: 0, itemsAcked: 0, staleMessagesIgnored: 0, acksDropped: 0,
  };
  master: MasterInfo | undefined;
  private readonly timings: SessionTimings;
  private readonly clock: SessionClock;
  private readonly dbs = new Map<string, DbState>();
  private readonly queue: ItemQueue<ReceivedItem>;
  private conn: ReplConnection | undefined;
  private identity: PbNode | undefined;
  private generation = 0;
  private streaming = false;
  private stopping = false;
  private failure: Error | undefined;
  private running: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  private readyWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];

  constructor(private readonly options: ReplicationSessionOptions) {
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.clock = options.clock ?? systemClock;
    this.queue = new ItemQueue(options.maxQueuedItems ?? 20000, this.clock);
  }

  /** Starts connecting in the background; problems surface through `take()` (and `ready()`). */
  start(): void {
    this.running ??= this.run();
  }

  /** Resolves when every DB is streaming on the current connection; rejects when the session failed. */
  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.streaming) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  get currentGeneration(): number {
    return this.generation;
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  /** Per DB: session id and resume position (for status). */
  positions(): Record<string, DbPosition> {
    const out: Record<string, DbPosition> = {};
    for (const db of this.dbs.values()) out[db.name] = positionOf(db);
    return out;
  }

  /** Per DB: ms since the last ack sent (or since the master began keeping binlog for it); null before that. */
  msSinceLastAck(): Record<string, number | null> {
    const now = this.clock.now();
    return Object.fromEntries([...this.dbs.values()].map((db) => [db.name, db.lastAckAt === undefined ? null : now - db.lastAckAt]));
  }

  /** Whether `db` currently waits for a full sync (DBSync sent or to be sent). */
  inDumpMode(db: string): boolean {
    return this.dbs.get(db)?.mode === 'dump';
  }

  /**
   * The caller has emitted the dump of `db` taken at `at` (its `info` offset): continue the binlog right after it
   * (TrySync at `at` → first BinlogSync) on the current connection, or on the next one when there is none now.
   * A gap there follows `onGap` (another full sync) or fails the session.
   */
  async finishDump(db: string, at: BinlogPosition): Promise<void> {
    const state = this.dbs.get(db);
    if (!state || state.mode !== 'dump') throw new Error(`finishDump(${db}): that DB is not waiting for a full sync`);
    finishDumpAt(state, at);
    const conn = this.conn;
    if (!this.streaming || !conn || conn.closed) return; // the next handshake continues from resumeFrom
    try {
      await this.syncDb(conn, db, this.master!);
    } catch (error) {
      if (isFatal(error)) this.fail(error as Error);
      else conn.close(error as Error);
    }
  }

  /**
   * Up to `max` received items, oldest first; waits up to `waitMs` when none is queued. Throws the failure that
   * ended the session (gap, refusal, protocol error).
   */
  async take(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedItem[]> {
    if (this.failure) throw this.failure;
    if (!this.stopping) await this.queue.waitForItems(waitMs, signal);
    if (this.failure) throw this.failure;
    const { items, resume } = this.queue.take(max);
    if (resume) this.conn?.pause(false);
    return items;
  }

  /**
   * Acknowledges the items of `db` ending at `start` … `end` (both included, `items` of them), received on
   * `generation`. Dropped (counted) when that connection is gone: the master forgot the range with it.
   */
  acknowledge(db: string, generation: number, start: AckPosition, end: AckPosition, items: number): void {
    const state = this.dbs.get(db);
    const conn = this.conn;
    if (generation !== this.generation || !conn || conn.closed || state?.sessionId === undefined) {
      this.stats.acksDropped++;
      return;
    }
    conn.send(ackRequest(this.identity!, db, state.sessionId, start, end));
    state.lastSentAt = this.clock.now();
    state.lastAckAt = state.lastSentAt;
    state.unacked = Math.max(0, state.unacked - items);
    this.stats.acksSent++;
    this.stats.itemsAcked += items;
  }

  /** Graceful end: RemoveSlaveNode for every active DB, then close. */
  async stop(): Promise<void> {
    if (this.stopping) return this.running;
    this.stopping = true;
    this.queue.wake();
    this.wakeSleep?.();
    const conn = this.conn;
    if (conn && !conn.closed && this.identity) {
      for (const db of this.dbs.values()) {
        if (db.sessionId === undefined) continue;
        try {
          await conn.request(removeSlaveNodeRequest(this.identity, db.name), InnerType.kRemoveSlaveNode, Math.min(1000, this.timings.requestTimeoutMs));
        } catch {
          break; // connection gone: the master removes our nodes when it sees the close anyway
        }
      }
    }
    conn?.close();
    await this.running;
  }

  // ---------- connection loop ----------

  private async run(): Promise<void> {
    let backoff = this.timings.reconnectMinMs;
    while (!this.stopping && !this.failure) {
      let handshakeDone = false;
      try {
        handshakeDone = await this.runConnection();
      } catch (error) {
        if (isFatal(error)) {
          this.fail(error as Error);
          break;
        }
        if (this.stopping) break;
        this.options.logger.warn('replication connection failed; reconnecting', { error: (error as Error).message, retry_in_ms: backoff });
      }
      if (this.stopping || this.failure) break;
      if (handshakeDone) backoff = this.timings.reconnectMinMs;
      this.stats.reconnects++;
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.timings.reconnectMaxMs);
    }
    for (const w of this.readyWaiters.splice(0)) w.reject(this.failure ?? new ConnectionClosedError('replication session stopped'));
  }

  /** One connection from connect to close. Returns true when the handshake completed; throws fatal errors. */
  private async runConnection(): Promise<boolean> {
    const { host, port, logger } = this.options;
    const conn = await ReplConnection.open(host, port, this.clock, this.timings.requestTimeoutMs);
    if (this.stopping) {
      conn.close();
      return false;
    }
    const generation = ++this.generation;
    this.stats.connects++;
    this.conn = conn;
    this.identity = this.options.identity ?? { ip: conn.localAddress, port: conn.localPort };
    for (const db of this.dbs.values()) resetForConnection(db);
    const closed = new Promise<Error>((resolve) => { conn.onClose = resolve; });
    conn.onPush = (response) => this.handlePush(conn, generation, response);
    let keepalive: Keepalive | undefined;
    try {
      const master = await this.metaSync(conn);
      for (const name of selectDbs(this.dbs, this.options.dbs, master)) await this.syncDb(conn, name, master);
      // finishDump() calls that came while this handshake ran.
      for (const db of this.dbs.values()) if (db.mode === 'binlog' && db.sessionId === undefined) await this.syncDb(conn, db.name, master);
      this.streaming = true;
      logger.info('replicating from the Pika master', { host, port, identity: `${this.identity.ip}:${this.identity.port}`, dbs: [...this.dbs.keys()].join(','), generation });
      for (const w of this.readyWaiters.splice(0)) w.resolve();
      keepalive = new Keepalive(conn, {
        timings: this.timings, clock: this.clock, dbs: () => this.dbs.values(), ping: (db) => this.ping(conn, db),
        owing: () => this.queue.length > 0 || [...this.dbs.values()].some((db) => db.unacked > 0),
      });
      const reason = await closed;
      if (isFatal(reason)) throw reason;
      if (!this.stopping) logger.warn('replication connection lost; resuming every DB after its last received item', { reason: reason.message, positions: this.positions() });
      return true;
    } catch (error) {
      const reason = conn.closed ? await closed : undefined;
      throw reason && isFatal(reason) ? reason : error;
    } finally {
      keepalive?.stop();
      this.streaming = false;
      this.queue.readerEnded();
      conn.close();
      if (this.conn === conn) this.conn = undefined;
    }
  }

  private ping(conn: ReplConnection, db: DbState): void {
    conn.send(pingRequest(this.identity!, db.name, db.sessionId!));
    db.lastSentAt = this.clock.now();
    this.stats.pingsSent++;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => { this.wakeSleep = undefined; resolve(); }, ms);
      this.wakeSleep = () => { this.clock.clearTimeout(timer); this.wakeSleep = undefined; resolve(); };
    });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.options.logger.error('replication stopped', { error: error.message, code: (error as ConnectError).code });
    this.queue.wake();
    for (const w of this.readyWaiters.splice(0)) w.reject(error);
  }

  // ---------- handshake ----------

  private async metaSync(conn: ReplConnection): Promise<MasterInfo> {
    for (let attempt = 1; ; attempt++) {
      const reply = await conn.request(metaSyncRequest(this.identity!, this.options.password), InnerType.kMetaSync, this.timings.requestTimeoutMs);
      if (reply.code === StatusCode.kOk) return this.checkReplicationId(parseMasterInfo(reply));
      if (reply.code === StatusCode.kOther) {
        // The master still maps our identity to an older connection; proceeding would let that connection's close
        // delete the new session's nodes (§5.4.5). Wait until it notices.
        this.stats.alreadyExistRetries++;
        this.options.logger.warn('master answered MetaSync with "Slave AlreadyExist"; retrying', { attempt, reply: reply.reply, identity: `${this.identity!.ip}:${this.identity!.port}`, retry_in_ms: this.timings.alreadyExistRetryMs });
        await this.sleep(this.timings.alreadyExistRetryMs);
        if (this.stopping || conn.closed) throw new ConnectionClosedError('stopped while waiting to retry MetaSync');
        continue;
      }
      throw metaSyncRefusal(reply);
    }
  }

  private checkReplicationId(info: MasterInfo): MasterInfo {
    followReplicationId(this.dbs, this.master, info, this.options.onGap);
    this.master = info;
    return info;
  }

  private async syncDb(conn: ReplConnection, name: string, master: MasterInfo): Promise<void> {
    const db = this.dbs.get(name)!;
    let from = db.resumeFrom;
    if (!from && db.mode === 'binlog') {
      const start = this.options.start(name, master);
      if (start === 'dump') {
        db.mode = 'dump';
      } else if (start === 'current') {
        const probe = await trySync(conn, this.identity!, name, this.timings.requestTimeoutMs, { filenum: 0, offset: 0 });
        if (!probe.master) throw new PikaProtocolError(`${name}: the master's TrySync reply carries no binlog position (reply code ${probe.code}); cannot start at its current position`);
        from = probe.master;
        this.options.logger.info('no start position: starting at the master\'s current binlog position, like a new replica', { db: name, position: formatPosition(from) });
      } else {
        from = start;
      }
    }
    if (db.mode === 'dump' || !from) return this.requestDump(conn, db);
    const reply = await trySync(conn, this.identity!, name, this.timings.requestTimeoutMs, from);
    let sessionId: number;
    try {
      sessionId = sessionOrGap(name, from, reply);
    } catch (error) {
      if (!(error instanceof ReplicationGapError) || !this.options.onGap?.(error)) throw error;
      switchToDump(db);
      return this.requestDump(conn, db);
    }
    binlogActivated(db, sessionId, from, this.clock.now());
    conn.send(firstBinlogSyncRequest(this.identity!, name, sessionId, from));
    this.options.logger.debug('binlog sync activated', { db: name, session_id: sessionId, from: formatPosition(from) });
  }

  private async requestDump(conn: ReplConnection, db: DbState): Promise<void> {
    await this.options.beforeDbSync?.(db.name, this.master!);
    dumpAccepted(db, await dbSync(conn, this.identity!, db.name, this.timings.requestTimeoutMs), this.clock.now());
    this.options.logger.info('full sync requested (DBSync accepted): the master dumps the DB and keeps its binlog while this replica downloads', { db: db.name, session_id: db.sessionId });
    this.options.onDumpAccepted?.(db.name, this.generation);
  }

  // ---------- streaming ----------

  private handlePush(conn: ReplConnection, generation: number, response: InnerResponse): void {
    const entries = response.binlog_sync ?? [];
    if (entries.length === 0) return;
    const name = entries[0]!.slot.db_name;
    const db = this.dbs.get(name);
    if (!db || db.sessionId === undefined || entries.some((e) => e.session_id !== db.sessionId || e.slot.db_name !== name)) {
      // Items of a session we no longer have (or not yet): Pika's slave drops such messages too (§5.4.2).
      this.stats.staleMessagesIgnored++;
      return;
    }
    const items = intakePush(db, entries, this.stats, (item, end) => this.queue.push({ db: name, generation, item, end }));
    this.stats.itemsReceived += items;
    if (items === 0) {
      this.ping(conn, db); // Pika's slave answers a keepalive-only message with a ping (§5.4.4)
      return;
    }
    if (this.queue.arrived()) conn.pause(true);
  }
}

/** Errors that end the session instead of a reconnect. */
function isFatal(error: unknown): boolean {
  return error instanceof ConnectError;
}
