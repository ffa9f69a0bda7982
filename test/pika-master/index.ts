// Protocol-faithful stand-in for a Pika 4.0.1 (or 3.5.x) master, for tests, the demo and benchmarks.
//
//   const m = await startPikaMaster({ dbs: 2, dir });
//   m.exec(0, ['SET', 'k', 'v']);          // write without a socket; returns the RESP reply bytes
//   m.state(0); m.binlogPosition(0);       // ground truth
//   m.ports.resp / m.ports.repl            // RESP port and PB replication port (resp+2000 when `port` is given)
//   m.ports.rsync                          // rsync2 port (resp+10001 when `port` is given); DBSync dumps with real
//                                          // RocksDB (fullsync/); m.fullSync.bgsave(db) / .hold() / .idle() for tests
//   profile 'pb-3.4'                       // Pika 3.1–3.4: Blackwidow data, MetaSync without run_id, no rsync2 port;
//                                          // DBSync pushes the dump with `rsync` to node.ip:node.port+1000
//                                          // (fullsync/rsync-push.ts; m.rsyncPush.results / .idle())
//   await m.stop();
//
// Fault hooks: m.faults.{cutConnections, stall, corruptNextFrame, purgeBinlogs}, m.restart({ newReplicationId }).
//
// Legacy profiles ('legacy-3.0', 'legacy-2.x', legacy/): one keyspace, `trysync` on the RESP port, the heartbeat on
// resp+2000 (ports.repl), binlog senders connecting back to the replica's port+1000; m.legacy is the replication
// side (m.repl and m.fullSync are PB-only).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterCore } from './master-core.ts';
import type { Profile } from './commands/common.ts';
import type { Entry } from './data/keyspace.ts';
import type { BinlogPosition } from './binlog/physical-format.ts';
import { RespServer } from './resp/resp-server.ts';
import { ReplServer } from './repl/repl-server.ts';
import { scaledTimings } from './repl/repl-clock.ts';
import type { PbNode } from './repl/pb-messages.ts';
import { randomBytes } from 'node:crypto';
import { FullSync, RSYNC_PORT_SHIFT, type FullSyncQuirks } from './fullsync/full-sync.ts';
import type { GenCompression } from '../fixtures/rocksdb-gen/run.ts';
import { LegacyReplication, type LegacyProfile } from './legacy/legacy-replication.ts';
import { RsyncPusher } from './fullsync/rsync-push.ts';
import { DbBgsave } from './fullsync/bgsave.ts';

export interface PikaMasterOptions {
  dbs?: number;
  /** 'pb-3.4' = Pika 3.1–3.4 (data and binlog as 3.5, PB without run_id, full sync pushed with rsync). */
  profile?: Profile | LegacyProfile | 'pb-3.4';
  /** `binlog-file-size` (default 100 MiB, Pika's default). */
  binlogFileSize?: number;
  /** `expire-logs-nums` (default 10). */
  expireLogsNums?: number;
  /** Data directory (default: a new temp dir). */
  dir?: string;
  host?: string;
  /** RESP port; replication listens on port+2000. Omit/0 for ephemeral ports (each chosen separately). */
  port?: number;
  requirepass?: string;
  dbInstanceNum?: number;
  syncWindowSize?: number;
  /** Divides every replication timer (keepalive 2 s, drop 20 s, idle close 180 s). Default 1. */
  timeScale?: number;
  /** Wall clock for data/binlog timestamps (default Date.now). */
  nowMs?: () => number;
  /** Host the master reports about itself (RemoveSlaveNode replies). Default = host. */
  selfIp?: string;
  onDbSync?(db: number, node: PbNode, filenum: number): void;
  /** Compression of DBSync dumps (default snappy, Pika's default). */
  dumpCompression?: GenCompression;
  /** Dumps store keys with a 0x00 before their last byte damaged, as a real 4.0.x does (default false). */
  emulateEncodeUserKeyBug?: boolean;
  /** Full-sync behaviours of older Pika releases (3.5.0–3.5.4). */
  fullSyncQuirks?: FullSyncQuirks;
  /** Legacy profiles: the server_id in items (default 1, as the capture's master). */
  serverId?: number;
  /** Legacy profiles: a TRYSYNC answered `wait` (full sync to push to the replica's rsync daemon). */
  onLegacyWait?(slave: { ip: string; port: number; rsyncPort: number; module: string }): void;
}

export interface PikaMaster {
  readonly ports: { resp: number; repl: number; rsync: number };
  readonly dir: string;
  readonly core: MasterCore;
  readonly repl: ReplServer;
  readonly fullSync: FullSync;
  /** The rsync pusher of the 'pb-3.4' and 'legacy-3.0' profiles (undefined otherwise; fault hook failNextPushes). */
  readonly rsyncPush: RsyncPusher | undefined;
  /** Legacy profiles only. */
  readonly legacy: LegacyReplication | undefined;
  readonly profile: Profile | LegacyProfile | 'pb-3.4';
  exec(db: number, argv: readonly (Buffer | string)[]): Buffer;
  state(db: number): Map<string, Entry>;
  binlogPosition(db: number): BinlogPosition & { logicId: bigint };
  faults: {
    cutConnections(): void;
    stall(on: boolean): void;
    corruptNextFrame(): void;
    /** Deletes binlog files ≤ upTo of `db` regardless of slaves. */
    purgeBinlogs(db: number, upTo: number): number[];
  };
  /** Restarts both servers on the same ports keeping data and binlogs (sessions are lost, new run_id). */
  restart(options?: { newReplicationId?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function startPikaMaster(options: PikaMasterOptions = {}): Promise<PikaMaster> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pika-master-'));
  const host = options.host ?? '127.0.0.1';
  const profile = options.profile ?? '4.0';
  const isLegacy = profile === 'legacy-3.0' || profile === 'legacy-2.x';
  const pb34 = profile === 'pb-3.4';
  if (isLegacy && (options.dbs ?? 1) !== 1) throw new Error(`${profile} has one keyspace: dbs must be 1`);
  const core = new MasterCore({
    dbs: options.dbs ?? 1,
    profile: isLegacy || pb34 ? '3.5' : profile as Profile,
    ...(isLegacy ? { legacyServerId: options.serverId ?? 1 } : {}),
    dir,
    binlogFileSize: options.binlogFileSize ?? 100 * 1024 * 1024,
    expireLogsNums: options.expireLogsNums ?? 10,
    nowMs: options.nowMs ?? Date.now,
  });
  const timings = scaledTimings(options.timeScale ?? 1);

  let resp: RespServer;
  let repl: ReplServer;
  let fullSync: FullSync;
  let rsyncPush: RsyncPusher | undefined;
  let legacy: LegacyReplication | undefined;
  let legacyPush: RsyncPusher | undefined;
  const timeScale = options.timeScale ?? 1;
  const ports = { resp: options.port ?? 0, repl: options.port ? options.port + 2000 : 0, rsync: options.port ? options.port + RSYNC_PORT_SHIFT : 0 };

  /** INFO of a 3.0.16 master, the fields a replica reads (pika-vectors-3.0.16-legacy, info/). */
  function legacyInfo(): string {
    const at = core.binlogPosition(0);
    return [
      '# Server', `pika_version:${profile === 'legacy-3.0' ? '3.0.16' : '2.3.6'}`, `tcp_port:${ports.resp}`, `server_id:${options.serverId ?? 1}`, '',
      '# Data', `binlog_offset:${at.filenum} ${at.offset}`, '',
      '# Replication(MASTER)', 'role:master', `connected_slaves:${legacy!.slaves.size}`, '',
    ].join('\r\n');
  }

  async function startLegacyServers(): Promise<void> {
    legacy = new LegacyReplication(core, {
      profile: profile as LegacyProfile, host, heartbeatPort: ports.repl, serverId: options.serverId ?? 1,
      senderConnectDelayMs: 2000 / timeScale, senderRetryMs: 1000 / timeScale, heartbeatTimeoutMs: 20000 / timeScale,
      // Without a hook of its own, a 3.0 master bgsaves and pushes the dump to the slave's rsync daemon (port + 3000).
      onWait: options.onLegacyWait ?? ((slave) => legacyPush?.onLegacyWait(slave)), selfIp: options.selfIp ?? host, selfPort: () => ports.resp,
    });
    if (profile === 'legacy-3.0' && !options.onLegacyWait) {
      const bgsave = new DbBgsave(core, 0, { host: options.selfIp ?? host, port: () => ports.resp, dbInstanceNum: 1, compression: options.dumpCompression ?? 'snappy' });
      legacyPush = new RsyncPusher([bgsave], { selfIp: options.selfIp ?? host, respPort: () => ports.resp, dir, legacy: true });
    }
    resp = new RespServer(core, {
      host, port: ports.resp, requirepass: options.requirepass, infoReplication: () => legacyInfo(),
      extraCommand: (name, argv) => (name === 'trysync' ? legacy!.trysync(argv) : undefined),
    });
    ports.resp = await resp.listen();
    ports.repl = await legacy.listen();
  }

  async function startServers(): Promise<void> {
    if (isLegacy) return startLegacyServers();
    repl = new ReplServer(core, {
      host,
      port: ports.repl,
      selfIp: options.selfIp ?? host,
      selfPort: () => ports.resp,
      requirepass: options.requirepass,
      dbInstanceNum: options.dbInstanceNum ?? 3,
      syncWindowSize: options.syncWindowSize ?? 9000,
      timings,
      ...(pb34 ? { wireProfile: '3.4' as const } : {}),
      onDbSync: (db, node, filenum) => {
        if (rsyncPush) rsyncPush.onDbSync(db, node, filenum);
        else fullSync.onDbSync(db, filenum);
        options.onDbSync?.(db, node, filenum);
      },
    });
    // bgsave_info_ lives in memory: a restarted master starts without a usable dump.
    fullSync = new FullSync(core, {
      host, selfIp: options.selfIp ?? host, respPort: () => ports.resp, rsyncPort: ports.rsync,
      dbInstanceNum: options.dbInstanceNum ?? 3, compression: options.dumpCompression, encodeUserKeyBug: options.emulateEncodeUserKeyBug,
      // ≤ 3.5.4 (so 3.1–3.4): TryDBSync's gap is unsigned.
      quirks: pb34 ? { unsignedDbSyncGap: true, ...options.fullSyncQuirks } : options.fullSyncQuirks,
    });
    rsyncPush = pb34 ? new RsyncPusher(fullSync.bgsaves, { selfIp: options.selfIp ?? host, respPort: () => ports.resp, requirepass: options.requirepass, dir }) : undefined;
    resp = new RespServer(core, { host, port: ports.resp, requirepass: options.requirepass, infoReplication: () => repl.infoReplication() });
    ports.resp = await resp.listen();
    ports.repl = await repl.listen();
    // 3.1–3.4 have no rsync2 server.
    ports.rsync = pb34 ? 0 : await fullSync.listen();
  }
  await startServers();

  async function closeServers(): Promise<void> {
    await resp.close();
    if (legacy) {
      await legacy.close();
      await legacyPush?.close();
      legacyPush = undefined;
      return;
    }
    await repl.close();
    await rsyncPush?.close();
    await fullSync.close();
  }

  const master: PikaMaster = {
    ports,
    dir,
    core,
    get repl() { if (isLegacy) throw new Error(`${profile} has no PB replication server (use master.legacy)`); return repl; },
    get fullSync() { if (isLegacy) throw new Error(`${profile} has no rsync2 full sync`); return fullSync; },
    get legacy() { return legacy; },
    get rsyncPush() { return rsyncPush ?? legacyPush; },
    profile,
    exec: (db, argv) => core.exec(db, argv),
    state: (db) => core.state(db),
    binlogPosition: (db) => core.binlogPosition(db),
    faults: {
      cutConnections: () => { if (legacy) { legacy.cutConnections(); return; } repl.cutConnections(); fullSync.rsync.cutConnections(); },
      stall: (on) => repl.stall(on),
      corruptNextFrame: () => repl.corruptNextFrame(),
      purgeBinlogs: (db, upTo) => core.purgeBinlogs(db, upTo),
    },
    async restart(restartOptions = {}) {
      await closeServers();
      core.runId = randomBytes(20).toString('hex');
      if (restartOptions.newReplicationId) core.replicationId = randomBytes(25).toString('hex');
      await startServers();
    },
    async stop() {
      await closeServers();
      core.close();
    },
  };
  return master;
}
