// Full sync side of the test master: one bgsave state per DB (bgsave.ts) and the rsync2 server (rsync-server.ts).
// DBSync requests reach it through the replication server's `onDbSync` seam (PikaServer::TryDBSync).

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GenCompression } from '../../fixtures/rocksdb-gen/run.ts';
import type { MasterCore } from '../master-core.ts';
import { DbBgsave, type BgsaveResult } from './bgsave.ts';
import { RsyncServer } from './rsync-server.ts';

/** The rsync2 port is the RESP port + 10001 (kPortShiftRsync2). */
export const RSYNC_PORT_SHIFT = 10001;

export interface FullSyncOptions {
  host: string;
  /** Host written into `info`. */
  selfIp: string;
  respPort(): number;
  /** 0 = ephemeral. */
  rsyncPort: number;
  dbInstanceNum: number;
  compression?: GenCompression;
  encodeUserKeyBug?: boolean;
  quirks?: FullSyncQuirks;
}

/** Older Pika behaviours (default: 4.0.1 / 3.5.5). */
export interface FullSyncQuirks {
  /** 3.5.0–3.5.2: a meta request for an unknown DB or during a bgsave gets no reply at all. */
  silentMetaWhileBgsaving?: boolean;
  /** ≤ 3.5.4: TryDBSync's gap is unsigned, so DBSync with a filenum below the dump's forces a new bgsave. */
  unsignedDbSyncGap?: boolean;
}

export class FullSync {
  readonly bgsaves: DbBgsave[];
  readonly rsync: RsyncServer;
  private gate: Promise<void> | undefined;
  private releaseGate: (() => void) | undefined;

  constructor(private readonly core: MasterCore, private readonly options: FullSyncOptions) {
    this.bgsaves = Array.from({ length: core.dbCount }, (_, db) => new DbBgsave(core, db, {
      host: options.selfIp,
      port: options.respPort,
      dbInstanceNum: options.dbInstanceNum,
      compression: options.compression ?? 'snappy',
      encodeUserKeyBug: options.encodeUserKeyBug,
      unsignedDbSyncGap: options.quirks?.unsignedDbSyncGap,
      gate: async () => { while (this.gate) await this.gate; },
    }));
    this.rsync = new RsyncServer({
      host: options.host, port: options.rsyncPort, root: core.options.dir, dbs: this.bgsaves,
      silentMetaWhileBgsaving: options.quirks?.silentMetaWhileBgsaving,
    });
    // `../../../pika.conf` from a bgsave directory lands here, as on a real master's layout.
    const conf = join(core.options.dir, 'pika.conf');
    if (!existsSync(conf)) writeFileSync(conf, `# pika-connect test master\ndatabases : ${core.dbCount}\ndb-instance-num : ${options.dbInstanceNum}\n`);
  }

  listen(): Promise<number> {
    return this.rsync.listen();
  }

  /** DBSync accepted for `db`, announcing binlog file `filenum` (TryDBSync's `top`). */
  onDbSync(db: number, filenum: number): void {
    this.bgsaves[db]!.tryDbSync(filenum);
  }

  /** BGSAVE of one DB; resolves when the dump is complete (undefined when it failed). */
  bgsave(db: number): Promise<BgsaveResult | undefined> {
    return this.bgsaves[db]!.start();
  }

  /** Keeps every bgsave from finishing (meta answers kErr meanwhile) until the returned release is called. */
  hold(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    this.gate = gate;
    const releaseThis = (): void => {
      if (this.gate === gate) {
        this.gate = undefined;
        this.releaseGate = undefined;
      }
      release();
    };
    this.releaseGate = releaseThis;
    return releaseThis;
  }

  async idle(): Promise<void> {
    for (const b of this.bgsaves) await b.idle();
  }

  async close(): Promise<void> {
    this.releaseGate?.();
    await this.rsync.close();
    await this.idle();
  }
}
