// Full sync from a Pika 3.1–3.4 master (pika-protocol.md §2.2, §7.5): the master pushes the dump of a DB with its
// `rsync` client to `<reported node ip>:<reported node port + 1000>`, module `document`, path `<db>/…`, `info` last.
// This receiver owns the daemon (started on the first full sync, stopped with the task; `stop()` is final: a daemon
// whose start was under way is stopped too, and nothing starts one afterwards) and, per DB:
//   prepare(db)  — before DBSync is sent: identity configured, daemon up, `<module>/<db>/` emptied;
//   receive(db)  — after DBSync was accepted: wait for `info`, check it, move the directory out of the module (a
//                  later push — a re-sent DBSync — cannot change the files being read), return its path.
// Layout under `dir`: `rsync-push/module/<db>/` (receiving), `rsync-push/control/` (conf, secrets, log),
// `pushed/<db>/` (the last complete push of each DB).
import { rename, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectError, type Logger } from '../../../runtime/api/index.ts';
import { readDumpInfo, type DumpInfo } from '../dump/index.ts';
import type { DaemonModule } from './daemon-config.ts';
import { checkReplicaEndpoint } from './endpoint-check.ts';
import { RsyncDaemonError } from './errors.ts';
import { LEGACY_RSYNC_PORT_SHIFT, PB_RSYNC_PORT_SHIFT, legacyPushModule, pbPushModule } from './modules.ts';
import { prepareReceiveDir, waitForPushedDump, type PushProgress } from './push-receiver.ts';
import { pushTimeouts, recordPushTimeout } from './push-timeouts.ts';
import { RsyncDaemon } from './rsync-daemon.ts';

export interface PbPushReceiverOptions {
  /** The identity reported in MetaSync/DBSync (pika.replica.ip / pika.replica.port); required for a push. */
  replicaIp: string | undefined;
  replicaPort: number | undefined;
  /** Where the daemon listens; default replica port + 1000 on 0.0.0.0. */
  daemonPort?: number;
  bind?: string;
  masterHost: string;
  masterPort: number;
  /** The master's requirepass: the master logs in to our daemon with it (or `default`). */
  password: string | undefined;
  dir: string;
  logger: Logger;
  /**
   * Pika 3.0 (legacy TRYSYNC `wait`): port + 3000, module `document_<master ip>:<masterPort>`, no login. The ip
   * is `masterHost` until `useLegacyMasterIp` names the address the master was reached at (modules.ts says why).
   */
  legacy?: boolean;
  /**
   * snapshot.push.timeout.ms: give up a push when nothing arrived (no new file or byte in the receiving directory,
   * no new connection to the daemon) for this long; 0 = wait for ever (Pika 3.0's replica). The error is counted
   * per `connector` (status: `timeouts`, `last_timeout`) and handed to `onPushTimeout`.
   */
  pushTimeoutMs?: number;
  connector?: string;
  onPushTimeout?(db: string, error: RsyncDaemonError): void;
  /** Test seams. */
  pollMs?: number;
  rsyncPath?: string;
}

export class PbPushReceiver {
  private daemon: RsyncDaemon | undefined;
  private starting: Promise<RsyncDaemon> | undefined;
  /** A daemon being stopped for a new module name (useLegacyMasterIp); stop() waits for it too. */
  private retiring: Promise<void> | undefined;
  private stopped = false;
  private authFailure: RsyncDaemonError | undefined;
  /** The master pushed to another module name than ours (the daemon logged `unknown module`). */
  private moduleFailure: RsyncDaemonError | undefined;
  private legacyMasterIp: string | undefined;
  private readonly moduleDir: string;
  private readonly controlDir: string;
  private readonly pushedDir: string;

  constructor(private readonly o: PbPushReceiverOptions) {
    this.moduleDir = join(o.dir, 'rsync-push', 'module');
    this.controlDir = join(o.dir, 'rsync-push', 'control');
    this.pushedDir = join(o.dir, 'pushed');
  }

  private get shift(): number {
    return this.o.legacy ? LEGACY_RSYNC_PORT_SHIFT : PB_RSYNC_PORT_SHIFT;
  }

  get daemonPort(): number | undefined {
    return this.o.daemonPort ?? (this.o.replicaPort === undefined ? undefined : this.o.replicaPort + this.shift);
  }

  /** The rsync module the master must push to. */
  get moduleName(): string {
    return this.module().name;
  }

  /** Status for the task: where the master pushes and what the daemon saw. */
  status(): Record<string, unknown> {
    const timeouts = pushTimeouts(this.o.connector ?? '');
    return {
      push_to: this.o.replicaIp !== undefined && this.o.replicaPort !== undefined ? `${this.o.replicaIp}:${this.o.replicaPort + this.shift}` : null,
      daemon_port: this.daemonPort ?? null,
      module: this.moduleName,
      daemon_running: this.daemon?.running ?? false,
      ...(this.daemon ? { daemon: this.daemon.stats } : {}),
      failure: (this.authFailure ?? this.moduleFailure ?? this.daemon?.failure)?.message ?? null,
      push_timeout_ms: this.o.pushTimeoutMs ?? 0,
      timeouts: timeouts.count,
      last_timeout: timeouts.last,
    };
  }

  /**
   * 3.0: the master's address as our TRYSYNC connection reached it (modules.ts, legacyMasterIp). A daemon already
   * running under another module name is stopped; the next prepare starts it under the new one.
   */
  async useLegacyMasterIp(ip: string): Promise<void> {
    if (this.legacyMasterIp === ip) return;
    this.legacyMasterIp = ip;
    const daemon = this.daemon;
    const starting = this.starting;
    this.daemon = undefined;
    this.starting = undefined;
    const retiring = (async () => (daemon ?? (await starting?.catch(() => undefined)))?.stop())();
    this.retiring = retiring;
    await retiring;
  }

  /** Starts the daemon now (3.0: before each TRYSYNC, as the real replica) — errors are the caller's to log. */
  async startNow(): Promise<void> {
    const daemon = await this.ensureDaemon().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    if (daemon.failure) throw daemon.failure;
  }

  private module(): DaemonModule {
    // 3.0 pushes into the module's root: the module is the DB's receiving directory.
    return this.o.legacy
      ? legacyPushModule(join(this.moduleDir, 'db0'), this.legacyMasterIp ?? this.o.masterHost, this.o.masterPort)
      : pbPushModule(this.moduleDir, this.o.password);
  }

  /**
   * Before DBSync of `db`. `fresh` = no full sync of this DB is under way: its receiving directory is emptied (a
   * re-sent DBSync during a push must not delete the files that push is writing).
   */
  async prepare(db: string, fresh: boolean): Promise<void> {
    const daemon = await this.ensureDaemon();
    if (daemon.failure) throw daemon.failure;
    if (fresh) {
      this.authFailure = undefined;
      this.moduleFailure = undefined;
      await prepareReceiveDir(join(this.moduleDir, db));
    }
  }

  /** The directory of `db`'s last complete push whose `info` hashes to `uuid`, if it is still on disk. */
  async completed(db: string, uuid: string): Promise<string | undefined> {
    const dir = join(this.pushedDir, db);
    const info = await readDumpInfo(dir).catch(() => undefined);
    return info?.snapshotUuid === uuid ? dir : undefined;
  }

  /** Deletes `db`'s last complete push when it is dump `uuid` (its snapshot is in Kafka); true when deleted. */
  async remove(db: string, uuid: string): Promise<boolean> {
    const dir = await this.completed(db, uuid);
    if (!dir) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  /**
   * Waits for the master's push of `db` to complete; returns the dump directory (Blackwidow layout + `info`).
   * Rejects with PIKA_RSYNCD_PUSH_TIMEOUT when the push made no progress for `pushTimeoutMs`.
   */
  async receive(db: string, signal: AbortSignal, onProgress?: (p: PushProgress) => void): Promise<string> {
    const daemon = await this.ensureDaemon();
    const receiving = join(this.moduleDir, db);
    const port = daemon.port;
    const transfersBefore = daemon.stats.transfers;
    const timeoutMs = this.o.pushTimeoutMs ?? 0;
    let warnedSilence = false;
    const started = Date.now();
    let lastLogAt = started;
    let progressAt = started;
    let progressSeen = '0/0/0';
    let timedOut: RsyncDaemonError | undefined;
    this.o.logger.info(`waiting for the master to push the dump to the rsync daemon (Pika ${this.o.legacy ? '3.0' : '3.1–3.4'} full sync)`, { db, port, module: daemon.moduleName, dir: receiving, push_timeout_ms: timeoutMs });
    await waitForPushedDump(receiving, {
      signal,
      pollMs: this.o.pollMs,
      progressEveryMs: timeoutMs > 0 ? Math.min(5000, Math.max(100, Math.floor(timeoutMs / 5))) : undefined,
      failure: () => this.authFailure ?? this.moduleFailure ?? daemon.failure ?? timedOut,
      onProgress: (p) => {
        onProgress?.(p);
        const now = Date.now();
        const transfers = daemon.stats.transfers - transfersBefore;
        const seen = `${p.files}/${p.bytes}/${transfers}`;
        if (seen !== progressSeen) {
          progressSeen = seen;
          progressAt = now;
        } else if (timeoutMs > 0 && now - progressAt >= timeoutMs) {
          timedOut = this.pushTimedOut(db, daemon, p, transfers, now - started);
        }
        if (now - lastLogAt >= 5000) {
          lastLogAt = now;
          this.o.logger.info('waiting for the master\'s push', { db, port, files: p.files, mb: Math.round(p.bytes / 1048576), transfers });
        }
        if (!warnedSilence && transfers === 0 && now - started > 60_000) {
          warnedSilence = true;
          this.o.logger.warn(`no connection from the master to the rsync daemon on port ${port} for a minute: it bgsaves first, but check that it can reach ${this.o.replicaIp}:${port} (pika.replica.ip / pika.replica.port + ${this.shift}) and its log for "rsync send file failed"`, { db });
        }
      },
    });
    const info = await readDumpInfo(receiving);
    this.checkInfo(db, info);
    const target = join(this.pushedDir, db);
    await mkdir(this.pushedDir, { recursive: true });
    await rm(target, { recursive: true, force: true });
    await rename(receiving, target);
    this.o.logger.info('dump pushed by the master', { db, dump_uuid: info.snapshotUuid, dump_offset: `${info.filenum}:${info.offset}`, dir: target });
    return target;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const daemon = this.daemon ?? (await this.starting?.catch(() => undefined));
    await daemon?.stop();
    await this.retiring;
  }

  private pushTimedOut(db: string, daemon: RsyncDaemon, p: PushProgress, transfers: number, waitedMs: number): RsyncDaemonError {
    const master = `${this.o.masterHost}:${this.o.masterPort}`;
    const where = `the rsync daemon on ${this.o.replicaIp}:${daemon.port} (pika.replica.port + ${this.shift}), module '${daemon.moduleName}'`;
    const what = transfers === 0 && p.files === 0
      ? `nothing was pushed: check that the master can reach ${this.o.replicaIp}:${daemon.port} and its log for "rsync send file failed"`
      : `the push stopped half-way (${p.files} files, ${p.bytes} bytes, ${transfers} rsync transfers so far): see the master's log for "rsync send file failed"`;
    const error = new RsyncDaemonError(
      `the full sync of ${db} pushed by the master ${master} to ${where} made no progress for ${this.o.pushTimeoutMs} ms (snapshot.push.timeout.ms; waited ${Math.round(waitedMs / 1000)} s in all): ${what}. The task restarts and asks the master for the full sync again`,
      'PIKA_RSYNCD_PUSH_TIMEOUT');
    const record = recordPushTimeout(this.o.connector ?? '', db, error.message);
    this.o.logger.error('pushed full sync timed out', { db, master, port: daemon.port, module: daemon.moduleName, files: p.files, bytes: p.bytes, transfers, timeouts: record.count });
    this.o.onPushTimeout?.(db, error);
    return error;
  }

  private checkInfo(db: string, info: DumpInfo): void {
    // Pika's slave refuses an info whose ip/port are not its master's (Partition::TryUpdateMasterOffset). Behind NAT
    // or with a host name configured the ip differs legitimately; a port of another master is suspicious.
    if (info.port !== this.o.masterPort) {
      this.o.logger.warn('the pushed dump\'s info names another master port than pika.port (NAT, or a push from another master?)', { db, info_master: `${info.host}:${info.port}`, configured: `${this.o.masterHost}:${this.o.masterPort}` });
    }
  }

  private ensureDaemon(): Promise<RsyncDaemon> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    this.starting ??= this.startDaemon();
    return this.starting;
  }

  private stoppedError(): RsyncDaemonError {
    return new RsyncDaemonError(`the receiver of pushed full syncs from ${this.o.masterHost}:${this.o.masterPort} was stopped: its rsync daemon does not start again`, 'PIKA_RSYNCD_START');
  }

  private async startDaemon(): Promise<RsyncDaemon> {
    const { replicaIp, replicaPort } = this.o;
    if (replicaIp === undefined || replicaPort === undefined) {
      throw new ConnectError(
        'the master is Pika 3.1–3.4 (its MetaSync reply has no run_id): it pushes full syncs with rsync to the replica\'s reported address, port + 1000. '
        + 'Set pika.replica.ip (this host\'s address as the master sees it) and pika.replica.port (the daemon listens on pika.replica.port + 1000)',
        { code: 'PIKA_RSYNCD_IDENTITY', stage: 'poll' });
    }
    const port = this.daemonPort!;
    if (port > 65535) throw new RsyncDaemonError(`pika.replica.port ${replicaPort} + ${this.shift} = ${port} is not a TCP port: the master would push the full sync there`, 'PIKA_RSYNCD_CONFIG');
    const checks = await checkReplicaEndpoint({ replicaIp, daemonPort: port, masterHost: this.o.masterHost, ipKey: 'pika.replica.ip', portKey: 'pika.replica.port', probe: false });
    for (const c of checks) {
      if (c.level === 'error') throw new RsyncDaemonError(c.message, 'PIKA_RSYNCD_CONFIG');
      this.o.logger.warn(c.message);
    }
    const module = this.module();
    const daemon = new RsyncDaemon({
      port,
      bind: this.o.bind,
      module,
      controlDir: this.controlDir,
      purpose: `Pika ${this.o.legacy ? '3.0' : '3.1–3.4'} full-sync push to pika.replica.port + ${this.shift} = ${replicaIp}:${replicaPort + this.shift}`,
      logger: this.o.logger,
      rsyncPath: this.o.rsyncPath,
      onAuthFailure: (line) => {
        this.authFailure ??= new RsyncDaemonError(
          `the master's rsync push was refused on port ${port}: ${line}. The master logs in with its requirepass (or "default" when it has none): set pika.password to the master's requirepass`,
          'PIKA_RSYNCD_AUTH');
      },
      onLogLine: (line) => {
        const asked = /unknown module '([^']*)' tried from/.exec(line)?.[1];
        if (asked === undefined) return;
        this.moduleFailure ??= new RsyncDaemonError(
          `the master pushed the full sync to rsync module '${asked}' but the daemon on port ${port} serves '${module.name}'${this.o.legacy ? ': a Pika 3.0 master names the module after its own address towards this host; pika.host should be that address (the connector uses the address its TRYSYNC connection reached)' : ''}`,
          'PIKA_RSYNCD_MODULE');
      },
    });
    await daemon.start();
    if (this.stopped) {
      await daemon.stop();
      throw this.stoppedError();
    }
    this.daemon = daemon;
    for (const c of await checkReplicaEndpoint({ replicaIp, daemonPort: port, masterHost: this.o.masterHost, ipKey: 'pika.replica.ip', portKey: 'pika.replica.port' })) {
      if (c.level === 'warning' && /cannot connect/.test(c.message)) this.o.logger.warn(c.message);
    }
    return daemon;
  }
}
