// A replica session with a legacy Pika master (2.x / 3.0), pika-protocol.md §2.3, §6.5:
//   binlog receiver listening (replica port + 1000) → TRYSYNC on the master's RESP port → `:<sid>` → heartbeat
//   (`spci <sid>`, `ping` each second, master port + 2000) → the master's BinlogSender connects to the receiver,
//   authenticates with `auth <sid>` (checked) and streams items (3.0 frames or 2.x RESP) → queued for `take()`.
// Legacy masters take no acks: the resume point is a position. Any broken piece (heartbeat, sender connection,
// malformed bytes) ends the attempt; the next TRYSYNC asks again from the START of the last item queued and drops
// that one item when it comes back (`skipItemAt`). Resuming at an item's start rather than its end is deliberate:
// the end of the first item after a binlog roll is not known (its header names the previous file's end while it is
// stored at the next file's start — pika-vectors-3.0.16-legacy README, surprise 4), but every start is a real
// position, and a start at a file's end makes the master's sender roll over to the next file.
// A `wait` reply (the master needs a full sync) goes to `onWait` (the task receives the pushed dump and emits its
// snapshot, then the session TRYSYNCs at the dump's offset); without `onWait` it ends the session (PIKA_LEGACY_FULL_SYNC).
import type { Logger } from '../../../runtime/api/index.ts';
import { formatPosition, type BinlogPosition } from '../binlog/item.ts';
import { LegacyBinlogReceiver, type LegacyReceivedItem, type LegacyStream, type LegacyStreamProfile } from './binlog-receiver.ts';
import { LegacyHandshakeError, legacyPorts } from './handshake.ts';
import { LegacyHeartbeat } from './heartbeat.ts';
import { LegacyConnectError } from './tcp.ts';
import { ItemQueue } from '../replication/item-queue.ts';
import { trysync } from './trysync-client.ts';

export interface LegacyResume {
  position: BinlogPosition;
  /** The item starting at `position` was already delivered: drop it when the master sends it again. */
  skipItemAt: boolean;
}

export type LegacyStart = LegacyResume | 'force';

export interface LegacyTimings {
  requestTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Wait before TRYSYNC again after `AlreadyExist` (the master still holds our previous session). */
  alreadyExistRetryMs: number;
  /** No heartbeat reply for this long: the master is gone. */
  heartbeatTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** The master's sender must connect to our receiver within this long after TRYSYNC accepted us. */
  senderWaitMs: number;
}

export const DEFAULT_LEGACY_TIMINGS: LegacyTimings = {
  requestTimeoutMs: 10_000,
  reconnectMinMs: 500,
  reconnectMaxMs: 10_000,
  alreadyExistRetryMs: 2000,
  heartbeatTimeoutMs: 20_000,
  heartbeatIntervalMs: 1000,
  senderWaitMs: 30_000,
};

export interface LegacySessionOptions {
  host: string;
  /** The master's RESP port (TRYSYNC). */
  port: number;
  /** Default master port + 2000. */
  heartbeatPort?: number;
  password?: string;
  /** Reported to the master; default = the local address of the TRYSYNC connection. */
  replicaIp?: string;
  replicaPort: number;
  /** Where the receiver listens (default 0.0.0.0) and on which port (default replica port + 1000). */
  receiverHost?: string;
  receiverPort?: number;
  start: LegacyStart;
  logger: Logger;
  timings?: Partial<LegacyTimings>;
  maxQueuedItems?: number;
  /**
   * The master answered `wait` (full sync): receive and emit the dump, then resolve with where the binlog continues
   * (the dump's offset). Rejecting ends the session with that error. Without it, `wait` is PIKA_LEGACY_FULL_SYNC.
   * `masterAddress` is the master's address as the TRYSYNC connection reached it (the rsync module is named after it).
   */
  onWait?(at: 'force' | BinlogPosition, masterAddress: string | undefined): Promise<LegacyResume>;
  /** Before each TRYSYNC is written (see TrysyncCall.beforeSend); must not throw. */
  beforeTrysync?(masterAddress: string | undefined): Promise<void>;
}

export interface LegacyQueuedItem extends LegacyReceivedItem {
  generation: number;
}

export interface LegacySessionStats {
  trysyncs: number;
  reconnects: number;
  alreadyExistRetries: number;
  itemsReceived: number;
  itemsSkipped: number;
  streamsRefused: number;
  pingsSent: number;
}

const FATAL_CODES = new Set(['PIKA_LEGACY_AUTH', 'PIKA_LEGACY_INVALID_OFFSET', 'PIKA_LEGACY_NOT_SUPPORTED', 'PIKA_LEGACY_RECEIVER_LISTEN', 'PIKA_LEGACY_FULL_SYNC']);

const isFatal = (error: unknown): boolean => error instanceof LegacyHandshakeError && FATAL_CODES.has(error.code ?? '');

export class LegacySession {
  readonly stats: LegacySessionStats = { trysyncs: 0, reconnects: 0, alreadyExistRetries: 0, itemsReceived: 0, itemsSkipped: 0, streamsRefused: 0, pingsSent: 0 };
  /** 3.0 or 2.x, known from the first sender connection. */
  profile: LegacyStreamProfile | null = null;
  sid: number | null = null;
  serverId: number | null = null;
  reportedIp: string | null = null;
  lastError: string | null = null;
  private readonly timings: LegacyTimings;
  private readonly receiver: LegacyBinlogReceiver;
  private readonly queue: ItemQueue<LegacyQueuedItem>;
  private resume: LegacyStart;
  private skipAt: BinlogPosition | undefined;
  private stream: LegacyStream | undefined;
  private heartbeat: LegacyHeartbeat | undefined;
  private generation = 0;
  private everStreamed = false;
  /** Generation whose sender stream was accepted last. */
  private streamedGeneration = 0;
  private stopping = false;
  private failure: Error | undefined;
  private running: Promise<void> | undefined;
  private endAttempt: ((reason: Error) => void) | undefined;
  private wakeSleep: (() => void) | undefined;
  readonly receiverPort: number;
  readonly heartbeatPort: number;

  constructor(private readonly options: LegacySessionOptions) {
    this.timings = { ...DEFAULT_LEGACY_TIMINGS, ...options.timings };
    this.queue = new ItemQueue(options.maxQueuedItems ?? 20_000);
    this.resume = options.start;
    const ports = legacyPorts(options.replicaPort, options.port);
    this.receiverPort = options.receiverPort ?? ports.binlogReceiver;
    this.heartbeatPort = options.heartbeatPort ?? ports.heartbeat;
    this.receiver = new LegacyBinlogReceiver({
      onStream: (stream) => this.onStream(stream),
      onItem: (stream, item) => this.onItem(stream, item),
      onStreamEnd: (stream, error) => { if (stream === this.stream) this.endAttempt?.(error); },
    });
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Starts at `resume` instead of the constructor's start point (a snapshot finished from a local dump). */
  startAt(resume: LegacyStart): void {
    if (!this.running) this.resume = resume;
    this.start();
  }

  get isStreaming(): boolean {
    return this.stream !== undefined;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /** Where the next TRYSYNC asks to start (and whether the item there is dropped). */
  get resumePoint(): LegacyStart {
    return this.resume;
  }

  async take(max: number, waitMs: number, signal?: AbortSignal): Promise<LegacyQueuedItem[]> {
    if (this.failure) throw this.failure;
    if (!this.stopping) await this.queue.waitForItems(waitMs, signal);
    if (this.failure) throw this.failure;
    const { items, resume } = this.queue.take(max);
    if (resume) this.stream?.pause(false);
    return items;
  }

  /** Ends the session: the heartbeat closes (the master then drops us and stops its sender), the receiver stops. */
  async stop(): Promise<void> {
    if (this.stopping) return this.running;
    this.stopping = true;
    this.queue.wake();
    this.wakeSleep?.();
    this.endAttempt?.(new Error('stopped'));
    await this.running;
    await this.receiver.close();
  }

  // ---------- connection loop ----------

  private async run(): Promise<void> {
    const host = this.options.receiverHost ?? '0.0.0.0';
    try {
      await this.receiver.listen(host, this.receiverPort);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    let backoff = this.timings.reconnectMinMs;
    while (!this.stopping && !this.failure) {
      let wait = backoff;
      try {
        if ((await this.runAttempt()) === 'again') continue;
      } catch (error) {
        if (this.stopping) break;
        if (this.streamedGeneration === this.generation) wait = backoff = this.timings.reconnectMinMs;
        const e = error as Error;
        this.lastError = e.message;
        if (isFatal(e) || (!this.everStreamed && (e instanceof LegacyConnectError))) {
          this.fail(e);
          break;
        }
        if (e instanceof LegacyHandshakeError && e.code === 'PIKA_LEGACY_ALREADY_EXIST') {
          this.stats.alreadyExistRetries++;
          wait = this.timings.alreadyExistRetryMs;
        }
        this.options.logger.warn('legacy replication attempt failed; TRYSYNC again', { error: e.message, retry_in_ms: wait });
      }
      if (this.stopping || this.failure) break;
      this.stats.reconnects++;
      await this.sleep(wait);
      backoff = Math.min(backoff * 2, this.timings.reconnectMaxMs);
    }
  }

  /** One TRYSYNC → heartbeat → sender stream, until something breaks (thrown) or the session stops. */
  private async runAttempt(): Promise<void | 'again'> {
    const { host, port, logger } = this.options;
    const resume = this.resume;
    const at = resume === 'force' ? 'force' : resume.position;
    this.stats.trysyncs++;
    const { outcome, replicaIp, masterAddress } = await trysync({
      host, port, masterAuth: this.options.password, replicaIp: this.options.replicaIp, replicaPort: this.options.replicaPort,
      start: at, timeoutMs: this.timings.requestTimeoutMs, beforeSend: this.options.beforeTrysync,
    });
    this.reportedIp = replicaIp;
    if (outcome.kind === 'wait' && this.options.onWait && !this.stopping) {
      logger.info('the master answered TRYSYNC with "wait": full sync pushed by its rsync', { from: at === 'force' ? 'force' : formatPosition(at), push_to: `${replicaIp}:${this.options.replicaPort + 3000}` });
      const next = await this.options.onWait(at, masterAddress).catch((error: Error) => {
        if (this.stopping) return undefined;
        // A full sync that cannot be received (daemon cannot bind, bad dump) ends the session: retrying asks the
        // master for yet another bgsave and push.
        throw new LegacyHandshakeError(`legacy full sync failed: ${error.message}`, 'PIKA_LEGACY_FULL_SYNC');
      });
      if (next) this.resume = next;
      return 'again';
    }
    if (outcome.kind === 'wait') {
      throw new LegacyHandshakeError(
        `the master answered TRYSYNC ${at === 'force' ? 'force' : formatPosition(at)} with "wait": it needs a full sync (binlog purged, or forced), pushed by rsync to ${replicaIp}:${this.options.replicaPort + 3000}; legacy full sync is not available in this connector build — use snapshot.mode=never with a position the master still has, or reset the offsets`,
        'PIKA_LEGACY_FULL_SYNC');
    }
    if (this.stopping) return;
    const sid = outcome.sid;
    this.sid = sid;
    this.generation++;
    this.skipAt = resume !== 'force' && resume.skipItemAt ? resume.position : undefined;
    const ended = new Promise<Error>((resolve) => { this.endAttempt = resolve; });
    let senderTimer: NodeJS.Timeout | undefined;
    try {
      this.heartbeat = await LegacyHeartbeat.open(host, this.heartbeatPort, sid, {
        intervalMs: this.timings.heartbeatIntervalMs, replyTimeoutMs: this.timings.heartbeatTimeoutMs, connectTimeoutMs: this.timings.requestTimeoutMs,
      });
      this.heartbeat.onClose = (reason) => this.endAttempt?.(reason);
      logger.info('legacy TRYSYNC accepted; waiting for the master\'s binlog sender', {
        sid, from: at === 'force' ? 'force' : formatPosition(at), reported: `${replicaIp}:${this.options.replicaPort}`, receiver_port: this.receiverPort,
      });
      senderTimer = setTimeout(() => {
        if (this.stream) return;
        this.endAttempt?.(new LegacyConnectError(
          `the master's binlog sender did not connect to ${replicaIp}:${this.receiverPort} (the binlog receiver, replica port + 1000) within ${this.timings.senderWaitMs} ms: that address must be reachable from the master (set pika.replica.ip / pika.replica.port)`,
          'ETIMEDOUT'));
      }, this.timings.senderWaitMs);
      if (this.stopping) return;
      const reason = await ended;
      if (this.stopping) return;
      throw reason;
    } finally {
      clearTimeout(senderTimer);
      this.endAttempt = undefined;
      this.stats.pingsSent += this.heartbeat?.pingsSent ?? 0;
      this.heartbeat?.close();
      this.heartbeat = undefined;
      this.stream?.close();
      this.stream = undefined;
      this.queue.readerEnded();
      this.receiver.dropStreams();
    }
  }

  private onStream(stream: LegacyStream): boolean {
    if (stream.sid !== this.sid || this.stream !== undefined || this.endAttempt === undefined) {
      this.stats.streamsRefused++;
      this.options.logger.warn('refused a binlog sender connection: its auth sid is not the one TRYSYNC gave us (another replica\'s or an earlier session\'s stream)', {
        sender: stream.remote, sid: stream.sid, expected_sid: this.sid,
      });
      return false;
    }
    this.stream = stream;
    this.profile = stream.profile;
    this.everStreamed = true;
    this.streamedGeneration = this.generation;
    this.options.logger.info('replicating from the legacy Pika master', {
      host: this.options.host, port: this.options.port, profile: stream.profile, sid: stream.sid, sender: stream.remote,
    });
    return true;
  }

  private onItem(stream: LegacyStream, received: LegacyReceivedItem): void {
    if (stream !== this.stream) return;
    const start = received.item.start;
    if (this.skipAt) {
      const cmp = start.filenum - this.skipAt.filenum || start.offset - this.skipAt.offset;
      if (cmp <= 0) {
        this.stats.itemsSkipped++;
        return;
      }
      this.skipAt = undefined;
    }
    this.serverId = received.item.serverId;
    this.stats.itemsReceived++;
    this.queue.push({ ...received, generation: this.generation });
    this.resume = { position: start, skipItemAt: true };
    if (this.queue.arrived()) stream.pause(true);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wakeSleep = undefined; resolve(); }, ms);
      this.wakeSleep = () => { clearTimeout(timer); this.wakeSleep = undefined; resolve(); };
    });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.lastError = error.message;
    this.queue.wake();
  }
}
