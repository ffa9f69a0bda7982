// The data side of the test master: DBs, command execution, binlog appends, purge. No sockets here;
// the RESP server, the PB replication server and tests all drive it through `exec`.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Keyspace, type Entry } from './data/keyspace.ts';
import { runHandler, str, type CommandContext, type Profile } from './commands/common.ts';
import { commandTable } from './commands/registry.ts';
import { reply, encodeRespArray, type Reply } from './resp/resp-codec.ts';
import { BinlogWriter, type AppendedItem } from './binlog/binlog-writer.ts';
import type { BinlogPosition } from './binlog/physical-format.ts';

export interface MasterCoreOptions {
  /** Number of DBs (`databases`, 1–8 in Pika). */
  dbs: number;
  profile: Profile;
  /** Root directory; binlogs go to `<dir>/log/log_db<n>/`. */
  dir: string;
  /** `binlog-file-size` in bytes (Pika default 100 MiB). */
  binlogFileSize: number;
  /** `expire-logs-nums` (Pika default 10): at most this many binlog files are kept per DB. */
  expireLogsNums: number;
  /** Wall clock in unix ms used for TTLs, binlog times and stream ids. */
  nowMs(): number;
  runId?: string;
  replicationId?: string;
  /** Legacy 3.0 binlog items: this server_id in bytes 6–9 and logic ids from 0 (legacy/). */
  legacyServerId?: number;
}

export type AppendListener = (db: number, appended: AppendedItem) => void;

/** Decides whether binlog files of a DB may be purged up to a file number (replication vetoes). */
export type PurgeVeto = (db: number, filenum: number) => boolean;

export class MasterCore {
  readonly keyspaces: Keyspace[];
  readonly binlogs: BinlogWriter[];
  runId: string;
  replicationId: string;
  private readonly appendListeners = new Set<AppendListener>();
  purgeVeto: PurgeVeto = () => false;

  constructor(readonly options: MasterCoreOptions) {
    if (!Number.isInteger(options.dbs) || options.dbs < 1 || options.dbs > 8) {
      throw new Error(`databases must be 1..8, got ${options.dbs}`);
    }
    this.keyspaces = Array.from({ length: options.dbs }, () => new Keyspace(options.nowMs));
    this.binlogs = Array.from({ length: options.dbs }, (_, db) => new BinlogWriter({
      dir: this.binlogDir(db),
      fileSize: options.binlogFileSize,
      preallocate: options.profile === '4.0',
      nowSeconds: () => Math.floor(options.nowMs() / 1000),
      ...(options.legacyServerId !== undefined ? { termId: options.legacyServerId, zeroBasedLogicIds: true } : {}),
    }));
    this.runId = options.runId ?? randomBytes(20).toString('hex');
    this.replicationId = options.replicationId ?? randomBytes(25).toString('hex');
  }

  get dbCount(): number {
    return this.keyspaces.length;
  }

  binlogDir(db: number): string {
    return join(this.options.dir, 'log', `log_db${db}`);
  }

  onAppend(listener: AppendListener): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Runs one client command against `db`; appends its binlog items; returns the RESP reply. */
  exec(db: number, argv: readonly (Buffer | string)[]): Reply {
    this.checkDb(db);
    const args = argv.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a));
    if (args.length === 0) return reply.error('ERR empty command');
    const name = str(args[0]!).toLowerCase();
    if (name === 'flushall') {
      for (let d = 0; d < this.dbCount; d++) this.exec(d, ['flushdb']);
      return reply.ok();
    }
    const spec = commandTable.get(name);
    if (!spec) return reply.error(`ERR unknown command '${name}'`);
    const ctx: CommandContext = { ks: this.keyspaces[db]!, profile: this.options.profile, nowMs: this.options.nowMs };
    const result = runHandler(spec, ctx, args);
    for (const binlogArgv of result.binlog) this.appendBinlog(db, binlogArgv);
    return result.reply;
  }

  /**
   * Runs `fn` (many `exec`s, e.g. a preload) with binlog file writes and manifest saves deferred to its end;
   * the files end up byte-identical to per-command writes. Replication reads them on later ticks.
   */
  batch<T>(fn: () => T): T {
    const nest = (db: number): T => (db === this.binlogs.length ? fn() : this.binlogs[db]!.batch(() => nest(db + 1)));
    return nest(0);
  }

  /** Appends a raw argv to `db`'s binlog without touching the data (for tests of odd items). */
  appendBinlog(db: number, argv: readonly Buffer[]): AppendedItem {
    this.checkDb(db);
    const writer = this.binlogs[db]!;
    const before = writer.producer().filenum;
    const appended = writer.append(encodeRespArray(argv));
    if (appended.end.filenum !== before) this.autoPurge(db);
    for (const listener of this.appendListeners) listener(db, appended);
    return appended;
  }

  state(db: number): Map<string, Entry> {
    this.checkDb(db);
    return this.keyspaces[db]!.snapshot();
  }

  binlogPosition(db: number): BinlogPosition & { logicId: bigint } {
    this.checkDb(db);
    return this.binlogs[db]!.producer();
  }

  /** Deletes binlog files ≤ upTo (not the active one), ignoring replication vetoes — a fault hook. */
  purgeBinlogs(db: number, upTo: number): number[] {
    this.checkDb(db);
    return this.binlogs[db]!.deleteFilesUpTo(upTo);
  }

  /** StableLog::PurgeFiles: keep at most expire-logs-nums files, never those a slave still needs. */
  autoPurge(db: number): number[] {
    const writer = this.binlogs[db]!;
    const files = writer.fileNumbers();
    const excess = files.length - this.options.expireLogsNums;
    if (excess <= 0) return [];
    const candidate = files[excess - 1]!;
    let upTo = -1;
    for (const n of files) {
      if (n > candidate || this.purgeVeto(db, n)) break;
      upTo = n;
    }
    return upTo >= 0 ? writer.deleteFilesUpTo(upTo) : [];
  }

  close(): void {
    for (const writer of this.binlogs) writer.close();
  }

  private checkDb(db: number): void {
    if (!Number.isInteger(db) || db < 0 || db >= this.dbCount) {
      throw new Error(`DB index ${db} out of range 0..${this.dbCount - 1}`);
    }
  }
}
