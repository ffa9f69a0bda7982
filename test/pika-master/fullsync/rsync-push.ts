// Full sync of a Pika 3.1–3.4 master: the dump is pushed to the slave's rsync daemon with the system `rsync` client,
// after PikaServer::TryDBSync / DBSync / DbSyncSendFile (src/pika_server.cc@v3.3.6) and slash's RsyncSendFile /
// RsyncSendClearTarget (same commands as src/pstd/src/rsync.cc):
// - DBSync for node ip:port → TryDBSync(ip, port + 1000, db, top): reuse or redo the bgsave, then (serially, on the
//   bgsave thread) push; one push per `ip:port_db` at a time (db_sync_slaves_), later requests while it runs are
//   dropped;
// - for every child of the dump directory except `info` (directory order):
//   `rsync -avP --bwlimit=<db-sync-speed*1024> --password-file=<secret> --port=<port> <dump>/<child>/
//    rsync_user@<ip>::document/<db>/<child>/`; the first failure stops the loop;
// - `rsync -avP --delete --port=… --password-file=… <dump>/<type>/ …::document/<db>/<type>/` for the five types;
// - the master connects to ip:port to learn the address it reaches the slave from; when that differs from its own
//   host, `info` is rewritten as `0s\n<that ip>\n<port>\n<filenum>\n<offset>\n`; `info` is pushed last, and only
//   when everything before succeeded.
// The password file holds the master's requirepass, or `default` (PikaRsyncService::CreateSecretFile, mode 0600).
// Legacy 3.0 (`legacy: true`, pika-vectors-3.0.16-legacy): after a TRYSYNC answered `wait`, the same pushes go to the
// slave's port + 3000, module `document_<lip>:<master port>`, no user and no password, straight into the module's
// root (no `<db>/`); `info` last. `lip` is the master's own end of a connection to the slave's daemon, or its host
// when that connection fails (`PikaServer::DBSyncSendFile`, src/pika_server.cc@v3.0.16). This master probes the
// daemon port until it accepts (up to 10 s) before pushing, so a replica that starts its daemon after `wait` is not
// raced.
// Fault hook `failNextPushes(mode, n)`: the next n full syncs are accepted but 'suppress' never pushes (Pika's rsync
// could not run: "rsync send file failed … Error: -1") and 'cut' stops after the first file (its rsync died
// half-way); neither sends `info`.

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { DbBgsave } from './bgsave.ts';

/** kPortShiftRSync. */
export const PB_RSYNC_PORT_SHIFT = 1000;
/** 3.0: the slave's port + 3000. */
export const LEGACY_RSYNC_PORT_SHIFT = 3000;
const BLACKWIDOW_TYPES = ['strings', 'hashes', 'lists', 'sets', 'zsets'];

export interface RsyncPushOptions {
  /** The master's own host (`host_`), compared with the address it reaches the slave from. */
  selfIp: string;
  respPort(): number;
  requirepass?: string;
  /** `db-sync-speed` in MB/s (Pika clamps −1 and > 1024 to 1024). */
  dbSyncSpeedMb?: number;
  /** The master's data directory; the secret goes to `<dir>/dbsync/rsync/rsync.secret`. */
  dir: string;
  rsyncPath?: string;
  /** Pika 3.0's push (module `document_<selfIp>:<resp port>`, no auth, no `<db>/`). */
  legacy?: boolean;
}

export interface PushResult {
  db: number;
  target: string;
  ok: boolean;
  /** Every rsync argv run, in order. */
  commands: string[][];
  error?: string;
  infoRewritten: boolean;
}

export type PushFault = 'suppress' | 'cut';

export class RsyncPusher {
  readonly results: PushResult[] = [];
  /** Overrides db-sync-speed (KB/s, rsync's --bwlimit) from now on: tests slow a push down to act during it. */
  bwlimitKbps: number | undefined;
  private faults: PushFault[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private readonly secretFile: string;
  private closed = false;

  constructor(private readonly bgsaves: DbBgsave[], private readonly options: RsyncPushOptions) {
    const rsyncDir = join(options.dir, 'dbsync', 'rsync');
    mkdirSync(rsyncDir, { recursive: true });
    this.secretFile = join(rsyncDir, 'rsync.secret');
    writeFileSync(this.secretFile, options.requirepass || 'default', { mode: 0o600 });
  }

  /** The next `times` full syncs fail as `mode` says (see the header). */
  failNextPushes(mode: PushFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(mode);
  }

  /** HandleDBSyncRequest → TryDBSync for node ip:port (the slave's RESP port as it reported it). */
  onDbSync(db: number, node: { ip: string; port: number }, top: number): void {
    const port = node.port + PB_RSYNC_PORT_SHIFT;
    const key = `${node.ip}:${port}_db${db}:0`;
    const bgsave = this.bgsaves[db]!;
    bgsave.tryDbSync(top);
    if (this.running.has(key)) return;
    const fault = this.faults.shift();
    if (fault === 'suppress') return void this.results.push({ db, target: `${node.ip}:${port}`, ok: false, commands: [], error: 'suppressed (fault hook)', infoRewritten: false });
    const task = bgsave.idle()
      .then(() => (this.closed ? undefined : this.push(db, node.ip, port, fault)))
      .catch((error: Error) => { this.results.push({ db, target: `${node.ip}:${port}`, ok: false, commands: [], error: error.message, infoRewritten: false }); })
      .finally(() => this.running.delete(key));
    this.running.set(key, task);
  }

  /** 3.0 TRYSYNC answered `wait` for slave ip:port: bgsave (or reuse the last dump), then push to port + 3000. */
  onLegacyWait(node: { ip: string; port: number }): void {
    const port = node.port + LEGACY_RSYNC_PORT_SHIFT;
    const key = `${node.ip}:${port}`;
    const bgsave = this.bgsaves[0]!;
    void bgsave.start(); // a fresh dump per full sync (no-op while one runs)
    if (this.running.has(key)) return;
    const fault = this.faults.shift();
    if (fault === 'suppress') return void this.results.push({ db: 0, target: key, ok: false, commands: [], error: 'suppressed (fault hook)', infoRewritten: false });
    const task = bgsave.idle()
      .then(() => waitForPort(node.ip, port, 10_000))
      .then(() => (this.closed ? undefined : this.push(0, node.ip, port, fault)))
      .catch((error: Error) => { this.results.push({ db: 0, target: key, ok: false, commands: [], error: error.message, infoRewritten: false }); })
      .finally(() => this.running.delete(key));
    this.running.set(key, task);
  }

  /** Resolves when no push is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private async push(db: number, ip: string, port: number, fault: PushFault | undefined): Promise<void> {
    const bgsave = this.bgsaves[db]!;
    const dumpDir = bgsave.path;
    const remoteDb = `db${db}`;
    const kbps = this.bwlimitKbps ?? Math.min(Math.max(this.options.dbSyncSpeedMb ?? 1024, 0) || 1024, 1024) * 1024;
    const result: PushResult = { db, target: `${ip}:${port}`, ok: false, commands: [], infoRewritten: false };
    this.results.push(result);
    const legacy = this.options.legacy === true;
    const lip = legacy ? (await localAddressTowards(ip, port)) ?? this.options.selfIp : this.options.selfIp;
    const remote = (path: string): string => (legacy
      ? `${ip}::document_${lip}:${this.options.respPort()}/${path}`
      : `rsync_user@${ip}::document/${remoteDb}/${path}`);
    const auth = legacy ? [] : [`--password-file=${this.secretFile}`];
    const send = (local: string, target: string): Promise<void> =>
      this.run(result, ['-avP', `--bwlimit=${kbps}`, ...auth, `--port=${port}`, local, remote(target)]);
    let failure: Error | undefined;
    for (const child of await readdir(dumpDir)) {
      if (child === 'info') continue;
      const isDir = (await stat(join(dumpDir, child))).isDirectory();
      try {
        await send(join(dumpDir, child) + (isDir ? '/' : ''), child + (isDir ? '/' : ''));
      } catch (error) {
        failure = error as Error;
        break;
      }
      if (fault === 'cut') {
        result.error = 'cut after the first file (fault hook)';
        return;
      }
    }
    for (const type of BLACKWIDOW_TYPES) {
      await this.run(result, ['-avP', '--delete', `--port=${port}`, ...auth, join(dumpDir, type) + '/', remote(`${type}/`)]).catch(() => {});
    }
    if (!failure) {
      const lip = await localAddressTowards(ip, port);
      try {
        if (lip !== undefined && lip !== this.options.selfIp) {
          const fixed = join(dumpDir, `info.${Math.floor(Date.now() / 1000)}`);
          await writeFile(fixed, `0s\n${lip}\n${this.options.respPort()}\n${bgsave.position.filenum}\n${bgsave.position.offset}\n`);
          result.infoRewritten = true;
          try {
            await send(fixed, 'info');
          } finally {
            await rm(fixed, { force: true });
          }
        } else {
          await send(join(dumpDir, 'info'), 'info');
        }
      } catch (error) {
        failure = error as Error;
      }
    }
    result.ok = failure === undefined;
    if (failure) result.error = failure.message;
  }

  private run(result: PushResult, args: string[]): Promise<void> {
    result.commands.push(['rsync', ...args]);
    return new Promise((done, fail) => {
      execFile(this.options.rsyncPath ?? 'rsync', args, (error, _stdout, stderr) => {
        if (error) fail(new Error(`rsync ${args.join(' ')} failed (exit ${(error as { code?: number }).code}): ${stderr.trim()}`));
        else done();
      });
    });
  }
}

/** Resolves once ip:port accepts a TCP connection, or after `limitMs` (the push then fails on its own). */
async function waitForPort(ip: string, port: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && (await localAddressTowards(ip, port)) === undefined) await new Promise((r) => setTimeout(r, 100));
}

/** The master's `getsockname` after connecting to the slave's rsync port; undefined when it cannot connect. */
function localAddressTowards(ip: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (address: string | undefined): void => {
      socket.destroy();
      done(address);
    };
    socket.setTimeout(2000, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('connect', () => finish(socket.localAddress?.replace(/^::ffff:/, '')));
    socket.connect(port, ip);
  });
}
