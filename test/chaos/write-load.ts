// The chaos runs' steady write load: single-key commands of every data type (string, hash, list, set, zset,
// stream, generic DEL) spread over DBs 0 and 1, executed on the test master in this process. The master's own record
// of what it wrote is kept per command: the binlog end position the command moved the DB to (one binlog item per
// command, so one event per command), its key and op. Single-key commands only, so item = event holds.
import type { PikaMaster } from '../pika-master/index.ts';

export interface WrittenItem {
  db: number;
  /** Binlog end position of the item (the event's binlog.end_filenum/end_offset). */
  endFilenum: number;
  endOffset: number;
  key: string;
  op: string;
}

export const positionKey = (db: number, filenum: number, offset: number): string => `${db}:${filenum}:${offset}`;

const KEYS_PER_TYPE = 25;

export class WriteLoad {
  readonly written: WrittenItem[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;

  /** `random` drives the choice of command and key (seeded, so a run can be repeated). */
  constructor(private readonly master: () => PikaMaster, private readonly random: () => number, readonly dbs = [0, 1]) {}

  /** Starts writing `perSecond` commands a second in ticks of 20 ms. */
  start(perSecond: number): void {
    const perTick = Math.max(1, Math.round(perSecond / 50));
    this.timer = setInterval(() => {
      if (this.paused) return;
      for (let i = 0; i < perTick; i++) this.writeOne();
    }, 20);
  }

  /** Stops or resumes writing (the master restarting, a fault window that needs a quiet master). */
  pause(on: boolean): void {
    this.paused = on;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes `n` commands at once (between phases, e.g. while the worker is down). */
  burst(n: number): void {
    for (let i = 0; i < n; i++) this.writeOne();
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private writeOne(): void {
    const seq = this.seq++;
    const db = this.pick(this.dbs);
    const i = Math.floor(this.random() * KEYS_PER_TYPE);
    const member = `m${Math.floor(this.random() * 8)}`;
    const argv = this.pick<() => string[]>([
      () => ['SET', `str:${i}`, `v${seq}`],
      () => ['SET', `str:${i}`, `w${seq}`],
      () => ['HSET', `hash:${i}`, member, `v${seq}`],
      () => ['HDEL', `hash:${i}`, member],
      () => ['LPUSH', `list:${i}`, `v${seq}`],
      () => ['RPUSH', `list:${i}`, `v${seq}`],
      () => ['SADD', `set:${i}`, member],
      () => ['SREM', `set:${i}`, member],
      () => ['ZADD', `zset:${i}`, String(seq % 1000), member],
      () => ['ZREM', `zset:${i}`, member],
      () => ['XADD', `stream:${i}`, `${seq + 1}-0`, 'f', `v${seq}`],
      () => ['DEL', this.pick(['str', 'hash', 'list', 'set', 'zset', 'stream']) + `:${i}`],
    ])();
    this.exec(db, argv);
  }

  /** Executes one command and records the binlog item it produced, if any (a no-op write produces none). */
  exec(db: number, argv: string[]): void {
    const master = this.master();
    const before = master.binlogPosition(db);
    const reply = master.exec(db, argv).toString('latin1');
    if (reply.startsWith('-')) throw new Error(`write load: ${argv.join(' ')} → ${reply.trim()}`);
    const after = master.binlogPosition(db);
    if (after.filenum === before.filenum && after.offset === before.offset) return;
    this.written.push({ db, endFilenum: after.filenum, endOffset: after.offset, key: argv[1]!, op: argv[0]!.toLowerCase() });
  }

  get count(): number {
    return this.written.length;
  }
}
