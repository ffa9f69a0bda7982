// Protocol-faithful stand-in for a Pika 4.0.1 (or 3.5.x) master, for tests, the demo and benchmarks.
//
//   const m = await startPikaMaster({ dbs: 2, dir });
//   m.exec(0, ['SET', 'k', 'v']);          // write without a socket; returns the RESP reply bytes
//   m.state(0); m.binlogPosition(0);       // ground truth
//   m.ports.resp / m.ports.repl            // RESP port and PB replication port (resp+2000 when `port` is given)
//   m.ports.rsync                          // rsync2 port (resp+10001 when `port` is given); DBSync dumps with real
//                                          // RocksDB (fullsync/); m.fullSync.bgsave(db) / .hold() / .idle() for tests
//   await m.stop();
//
// Fault hooks: m.faults.{cutConnections, stall, corruptNextFrame, purgeBinlogs}, m.restart({ newReplicationId }).

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

export interface PikaMasterOptions {
  dbs?: number;
  profile?: Profile;
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
}

export interface PikaMaster {
  readonly ports: { resp: number; repl: number; rsync: number };
  readonly dir: string;
  readonly core: MasterCore;
  readonly repl: ReplServer;
  readonly fullSync: FullSync;
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
  const core = new MasterCore({
    dbs: options.dbs ?? 1,
    profile: options.profile ?? '4.0',
    dir,
    binlogFileSize: options.binlogFileSize ?? 100 * 1024 * 1024,
    expireLogsNums: options.expireLogsNums ?? 10,
    nowMs: options.nowMs ?? Date.now,
  });
  const timings = scaledTimings(options.timeScale ?? 1);

  let resp: RespServer;
  let repl: ReplServer;
  let fullSync: FullSync;
  const ports = { resp: options.port ?? 0, repl: options.port ? options.port + 2000 : 0, rsync: options.port ? options.port + RSYNC_PORT_SHIFT : 0 };

  async function startServers(): Promise<void> {
    repl = new ReplServer(core, {
      host,
      port: ports.repl,
      selfIp: options.selfIp ?? host,
      selfPort: () => ports.resp,
      requirepass: options.requirepass,
      dbInstanceNum: options.dbInstanceNum ?? 3,
      syncWindowSize: options.syncWindowSize ?? 9000,
      timings,
      onDbSync: (db, node, filenum) => {
        fullSync.onDbSync(db, filenum);
        options.onDbSync?.(db, node, filenum);
      },
    });
    // bgsave_info_ lives in memory: a restarted master starts without a usable dump.
    fullSync = new FullSync(core, {
      host, selfIp: options.selfIp ?? host, respPort: () => ports.resp, rsyncPort: ports.rsync,
      dbInstanceNum: options.dbInstanceNum ?? 3, compression: options.dumpCompression, encodeUserKeyBug: options.emulateEncodeUserKeyBug, quirks: options.fullSyncQuirks,
    });
    resp = new RespServer(core, { host, port: ports.resp, requirepass: options.requirepass, infoReplication: () => repl.infoReplication() });
    ports.resp = await resp.listen();
    ports.repl = await repl.listen();
    ports.rsync = await fullSync.listen();
  }
  await startServers();

  const master: PikaMaster = {
    ports,
    dir,
    core,
    get repl() { return repl; },
    get fullSync() { return fullSync; },
    exec: (db, argv) => core.exec(db, argv),
    state: (db) => core.state(db),
    binlogPosition: (db) => core.binlogPosition(db),
    faults: {
      cutConnections: () => { repl.cutConnections(); fullSync.rsync.cutConnections(); },
      stall: (on) => repl.stall(on),
      corruptNextFrame: () => repl.corruptNextFrame(),
      purgeBinlogs: (db, upTo) => core.purgeBinlogs(db, upTo),
    },
    async restart(restartOptions = {}) {
      await resp.close();
      await repl.close();
      await fullSync.close();
      core.runId = randomBytes(20).toString('hex');
      if (restartOptions.newReplicationId) core.replicationId = randomBytes(25).toString('hex');
      await startServers();
    },
    async stop() {
      await resp.close();
      await repl.close();
      await fullSync.close();
      core.close();
    },
  };
  return master;
}
