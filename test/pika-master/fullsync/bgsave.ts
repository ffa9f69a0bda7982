// Per-DB bgsave of the test master, after Pika 4.0.1's DB::BgSaveDB / DoBgSave / InitBgsaveEnv /
// InitBgsaveEngine / GetBgSaveMetaData / GetBgSaveUUID (src/pika_db.cc) and PikaServer::TryDBSync
// (src/pika_server.cc):
// - the dump goes to `<dir>/dump/<YYYYMMDD local>/db<N>` (dump-path `./dump/`, empty dump-prefix); a second
//   bgsave on the same day deletes and rewrites that directory;
// - the binlog producer offset and the data are taken at the same instant (Pika holds the DB's exclusive lock;
//   here it is one synchronous step), then real RocksDB writes the files (pika-gen) while writes go on;
// - `info` = `<secs>s\n<host>\n<port>\n<filenum>\n<offset>\n`, snapshot uuid = md5 hex of it. The uuid is only
//   replaced when a bgsave finishes, so file requests during a bgsave get the previous dump's uuid, as on Pika;
// - a failed bgsave renames its directory to `…_FAILED`.

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyspaceToGenPieces } from '../../fixtures/rocksdb-gen/keyspace-input.ts';
import { runPikaGen, type GenCompression } from '../../fixtures/rocksdb-gen/run.ts';
import type { MasterCore } from '../master-core.ts';
import type { BinlogPosition } from '../binlog/physical-format.ts';

/** kDBSyncMaxGap (include/pika_define.h @v4.0.1). */
export const DB_SYNC_MAX_GAP = 50;
const BLACKWIDOW_TYPES = ['strings', 'hashes', 'lists', 'zsets', 'sets'];

export interface BgsaveSettings {
  /** Host written to `info` (the address Pika thinks it has). */
  host: string;
  /** RESP port written to `info`. */
  port(): number;
  dbInstanceNum: number;
  compression: GenCompression;
  /** Pika ≤ 3.5.4 computes `top − bgsave filenum` as int32 − uint32: a slave behind the dump forces a new one. */
  unsignedDbSyncGap?: boolean;
  /** Store keys as Pika 4.0.x's EncodeUserKey bug does (4.0 profile; keys with a 0x00 before their end). */
  encodeUserKeyBug?: boolean;
  /** Awaited before the dump is declared done: tests hold the "bgsave running" window open with it. */
  gate?: () => Promise<void>;
}

export interface BgsaveResult {
  path: string;
  position: BinlogPosition;
  uuid: string;
  keys: number;
}

export class DbBgsave {
  bgsaving = false;
  /** bgsave_info_.path: '' until the first bgsave of this master run. */
  path = '';
  position: BinlogPosition = { filenum: 0, offset: 0 };
  private uuid = '';
  private running: Promise<BgsaveResult | undefined> | undefined;
  lastError: Error | undefined;

  constructor(private readonly core: MasterCore, readonly db: number, private readonly settings: BgsaveSettings) {}

  get dbName(): string {
    return `db${this.db}`;
  }

  /** PikaServer::TryDBSync: reuse the last dump unless it is gone, its binlog file is gone, or it is too old. */
  tryDbSync(top: number): void {
    const binlogGone = !this.core.binlogs[this.db]!.fileNumbers().includes(this.position.filenum);
    const gap = this.settings.unsignedDbSyncGap ? (top - this.position.filenum) >>> 0 : top - this.position.filenum;
    if (!isDir(this.path) || binlogGone || gap > DB_SYNC_MAX_GAP) this.start();
  }

  /** DB::BgSaveDB: no-op while a bgsave runs. Resolves when this bgsave (or the running one) is done. */
  start(): Promise<BgsaveResult | undefined> {
    if (this.running) return this.running;
    this.bgsaving = true;
    const startedMs = this.core.options.nowMs();
    const path = join(this.core.options.dir, 'dump', localDate(startedMs), this.dbName);
    // The consistent point: data and binlog offset of the same instant.
    const entries = this.core.state(this.db);
    const { filenum, offset } = this.core.binlogPosition(this.db);
    this.path = path;
    this.position = { filenum, offset };
    this.running = this.write(path, entries, startedMs).finally(() => {
      this.running = undefined;
      this.bgsaving = false;
    });
    return this.running;
  }

  /** Test hook: serve an existing dump directory (e.g. a real Pika's) as this DB's last bgsave. */
  async adoptDump(path: string): Promise<void> {
    await this.idle();
    const lines = (await readFile(join(path, 'info'), 'latin1')).split('\n');
    this.path = path;
    this.position = { filenum: Number(lines[3]), offset: Number(lines[4]) };
    this.uuid = '';
  }

  /** Resolves when no bgsave is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** DB::GetBgSaveMetaData: every file of every instance directory (directory order), then `info`. */
  async metaData(): Promise<{ filenames: string[]; uuid: string }> {
    const filenames: string[] = [];
    const profile = this.core.options.profile;
    const dirs = profile === '4.0' ? Array.from({ length: this.settings.dbInstanceNum }, (_, i) => String(i)) : BLACKWIDOW_TYPES;
    for (const d of dirs) {
      if (!this.path || !existsSync(join(this.path, d))) continue;
      for (const name of await readdir(join(this.path, d))) filenames.push(`${d}/${name}`);
    }
    filenames.push('info');
    return { filenames, uuid: await this.snapshotUuid() };
  }

  /** DB::GetBgSaveUUID: the cached uuid, else md5 of `<path>/info`, else ''. */
  async snapshotUuid(): Promise<string> {
    if (!this.uuid && this.path) {
      try {
        this.uuid = md5(await readFile(join(this.path, 'info')));
      } catch {
        return '';
      }
    }
    return this.uuid;
  }

  private async write(path: string, entries: ReturnType<MasterCore['state']>, startedMs: number): Promise<BgsaveResult | undefined> {
    const floyd = this.core.options.profile === '4.0';
    try {
      await rm(path, { recursive: true, force: true });
      await rm(`${path}_FAILED`, { recursive: true, force: true });
      await mkdir(path, { recursive: true });
      const input = keyspaceToGenPieces(entries, { layout: floyd ? 'floyd' : 'blackwidow', instances: this.settings.dbInstanceNum, nowMs: startedMs });
      await runPikaGen({ layout: floyd ? 'floyd' : 'blackwidow', dir: path, instances: this.settings.dbInstanceNum, compression: this.settings.compression, encodeUserKeyBug: floyd && this.settings.encodeUserKeyBug }, input);
      await this.settings.gate?.();
      const seconds = Math.max(0, Math.floor((this.core.options.nowMs() - startedMs) / 1000));
      const info = `${seconds}s\n${this.settings.host}\n${this.settings.port()}\n${this.position.filenum}\n${this.position.offset}\n`;
      await writeFile(join(path, 'info'), info);
      this.uuid = md5(Buffer.from(info));
      this.lastError = undefined;
      return { path, position: { ...this.position }, uuid: this.uuid, keys: entries.size };
    } catch (err) {
      this.lastError = err as Error;
      await rename(path, `${path}_FAILED`).catch(() => undefined);
      return undefined;
    }
  }
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

function isDir(path: string): boolean {
  try {
    return path !== '' && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** strftime("%Y%m%d", localtime(now)). */
function localDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}
