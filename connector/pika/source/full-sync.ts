// One DB's full sync as the source task drives it (pika-protocol.md §5.7, §7): the rsync2 download of the dump the
// master made for our DBSync into `<snapshot dir>/<db>/`, then the dump's snapshot events one by one. A committed
// snapshot position (offset `phase: snapshot`) of the same dump resumes after its event, from the local copy when
// it is complete; a position of another dump restarts the snapshot (the snapshot module says so in snapshot-start).
import type { Logger, SourceOffset } from '../../../runtime/api/index.ts';
import type { BinlogPosition } from '../binlog/item.ts';
import { readDumpInfo } from '../dump/index.ts';
import { completedDownload, downloadDump, removeDownload, tcpTransportFactory, type RsyncProgress } from '../rsync/index.ts';
import { snapshotEvents, type SnapshotOptions, type SnapshotRecord } from '../snapshot/index.ts';
import { throttledTransport } from './throttled-transport.ts';

export interface FullSyncSettings {
  host: string;
  rsyncPort: number;
  dir: string;
  bytesPerSecond: number;
  snapshot: SnapshotOptions;
  logger: Logger;
  signal: AbortSignal;
  /** The committed snapshot position of this DB, when a snapshot was in progress. */
  resumeFrom: SourceOffset | undefined;
  /** A deletion of this DB's previous download still running: the download starts after it. */
  after?: Promise<void>;
  onWarning(message: string): void;
  /** Pika 3.1–3.4: the master pushes the dump to our rsync daemon instead of serving it over rsync2. */
  pushed?: PushedDumps;
}

/** Where pushed dumps arrive (../rsync-daemon/pb-push-receiver.ts). */
export interface PushedDumps {
  /** The local copy of an earlier complete push with this uuid, if any. */
  completed(db: string, uuid: string): Promise<string | undefined>;
  receive(db: string, signal: AbortSignal, onProgress?: (p: { files: number; bytes: number }) => void): Promise<string>;
  /** Deletes the local copy of dump `uuid` of `db`; true when it was there. */
  remove(db: string, uuid: string): Promise<boolean>;
}

export type FullSyncState = 'downloading' | 'emitting' | 'done';

export interface FullSyncStatus {
  state: FullSyncState;
  dump_uuid: string | null;
  dump_offset: string | null;
  files_done: number;
  files_total: number;
  bytes_downloaded: number;
  files_resumed: number;
  /** Bytes of half-fetched files kept from an interrupted download (only the rest was fetched). */
  bytes_resumed: number;
  events_emitted: number;
  resumed_after: string | null;
}

const PROGRESS_LOG_MS = 5_000;

export class FullSyncJob {
  state: FullSyncState = 'downloading';
  /** The dump's binlog position (its `info` file): where the binlog continues after the snapshot. */
  dumpOffset: BinlogPosition | undefined;
  dumpUuid: string | undefined;
  private progress: RsyncProgress | undefined;
  /** Operators follow a long full sync in the log: one progress line at most every PROGRESS_LOG_MS. */
  private lastProgressLogAt = 0;
  private filesResumed = 0;
  private bytesResumed = 0;
  private eventsEmitted = 0;
  private resumedAfter: string | null = null;
  private download: Promise<string> | undefined;
  private downloaded: string | undefined;
  private events: AsyncGenerator<SnapshotRecord> | undefined;

  constructor(readonly db: string, private readonly s: FullSyncSettings) {}

  /** Starts the download in the background (idempotent). */
  begin(): void {
    this.download ??= this.fetch().then((dir) => (this.downloaded = dir));
    this.download.catch(() => {}); // surfaces through ready()
  }

  /** Waits up to `ms` for the download; throws its failure. True when the dump is local and ready. */
  async ready(ms: number): Promise<boolean> {
    this.begin();
    if (this.downloaded) return true;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const wait = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      onAbort = resolve;
      this.s.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.download!, wait]);
    } finally {
      clearTimeout(timer);
      this.s.signal.removeEventListener('abort', onAbort!);
    }
    return this.downloaded !== undefined;
  }

  /** Up to `max` snapshot records of the downloaded dump; after the last one (snapshot-end) the job is done. */
  async next(max: number): Promise<SnapshotRecord[]> {
    if (!this.downloaded) throw new Error(`${this.db}: snapshot records asked before the dump was downloaded`);
    if (!this.events) {
      const info = await readDumpInfo(this.downloaded);
      this.dumpOffset = { filenum: info.filenum, offset: info.offset };
      this.dumpUuid = info.snapshotUuid;
      this.state = 'emitting';
      const resume = this.s.resumeFrom;
      if (resume && resume.dump_uuid === info.snapshotUuid) {
        this.resumedAfter = `${resume.stage}${resume.key_b64 ? ` key ${resume.instance}/${resume.key_b64} part ${resume.part}` : ''} (event ${resume.seq})`;
        this.s.logger.info('resuming the snapshot after its last committed event (same dump, nothing before it is read again)', {
          db: this.db, dump_uuid: info.snapshotUuid, stage: resume.stage, instance: resume.instance, key_b64: resume.key_b64, part: resume.part, seq: resume.seq, keys_done: resume.keys,
        });
      } else if (resume) {
        this.s.logger.warn('the committed snapshot position belongs to another dump than the one now downloaded: the snapshot restarts from its beginning', {
          db: this.db, committed_dump_uuid: resume.dump_uuid, dump_uuid: info.snapshotUuid,
        });
      } else {
        this.s.logger.info('snapshot starts', { db: this.db, dump_uuid: info.snapshotUuid, dump_offset: `${info.filenum}:${info.offset}` });
      }
      this.events = snapshotEvents(this.downloaded, this.s.snapshot, resume);
    }
    const out: SnapshotRecord[] = [];
    while (out.length < max) {
      const r = await this.events.next();
      if (r.done) {
        this.state = 'done';
        break;
      }
      out.push(r.value);
      this.eventsEmitted++;
      this.logProgress('snapshot in progress', { events_emitted: this.eventsEmitted });
      if (r.value.event.op === 'snapshot-end') {
        this.state = 'done';
        break;
      }
    }
    return out;
  }

  private logProgress(message: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastProgressLogAt < PROGRESS_LOG_MS) return;
    this.lastProgressLogAt = now;
    this.s.logger.info(message, { db: this.db, ...fields });
  }

  status(): FullSyncStatus {
    const p = this.progress;
    return {
      state: this.state,
      dump_uuid: this.dumpUuid ?? p?.snapshotUuid ?? null,
      dump_offset: this.dumpOffset ? `${this.dumpOffset.filenum}:${this.dumpOffset.offset}` : null,
      files_done: p?.filesDone ?? 0,
      files_total: p?.filesTotal ?? 0,
      bytes_downloaded: p?.bytesDone ?? 0,
      files_resumed: this.filesResumed,
      bytes_resumed: this.bytesResumed,
      events_emitted: this.eventsEmitted,
      resumed_after: this.resumedAfter,
    };
  }

  async close(): Promise<void> {
    await this.events?.return(undefined);
  }

  /**
   * Deletes the local copy of this job's dump (call once its snapshot-end is committed to Kafka: until then a
   * restart resumes the snapshot from it). False when there is nothing known to delete.
   */
  async removeDownload(): Promise<boolean> {
    if (this.state !== 'done' || !this.dumpUuid) return false;
    const removed = this.s.pushed ? await this.s.pushed.remove(this.db, this.dumpUuid) : await removeDownload(this.s.dir, this.db, this.dumpUuid);
    if (!removed) return false;
    this.s.logger.info('downloaded dump deleted: its snapshot is committed to Kafka', { db: this.db, dump_uuid: this.dumpUuid, dir: this.s.dir });
    return true;
  }

  private async fetch(): Promise<string> {
    const { s, db } = this;
    await s.after;
    const resume = s.resumeFrom;
    if (s.pushed) return this.receivePushed(s.pushed);
    if (resume) {
      const local = await completedDownload(s.dir, db);
      if (local && local.snapshotUuid === resume.dump_uuid) {
        s.logger.info('the dump of the interrupted snapshot is complete on local disk: no download', { db, dump_uuid: local.snapshotUuid, dir: local.dumpDir });
        return local.dumpDir;
      }
    }
    s.logger.info('downloading the dump over rsync2', { db, host: s.host, port: s.rsyncPort, dir: s.dir });
    const result = await downloadDump({
      db,
      dir: s.dir,
      connect: throttledTransport(tcpTransportFactory(s.host, s.rsyncPort), s.bytesPerSecond),
      signal: s.signal,
      onProgress: (p) => {
        this.progress = p;
        this.logProgress('downloading the dump', { files_done: p.filesDone, files_total: p.filesTotal, mb_downloaded: Math.round(p.bytesDone / 1048576) });
      },
      onWarning: (m) => s.onWarning(m),
    });
    this.filesResumed = result.filesResumed;
    this.bytesResumed = Object.values(result.partsResumed).reduce((a, b) => a + b, 0);
    s.logger.info('dump downloaded', {
      db, dump_uuid: result.snapshotUuid, files: Object.keys(result.files).length, files_resumed: result.filesResumed,
      parts_resumed: result.partsResumed, bytes_received: result.bytesReceived, restarts: result.restarts,
    });
    return result.dumpDir;
  }

  private async receivePushed(pushed: PushedDumps): Promise<string> {
    const { s, db } = this;
    const uuid = s.resumeFrom?.dump_uuid;
    const local = typeof uuid === 'string' ? await pushed.completed(db, uuid) : undefined;
    if (local) {
      s.logger.info('the pushed dump of the interrupted snapshot is still on local disk: not waiting for a new push', { db, dump_uuid: uuid, dir: local });
      return local;
    }
    return pushed.receive(db, s.signal, (p) => {
      this.progress = { db, snapshotUuid: '', filesDone: p.files, filesTotal: 0, bytesDone: p.bytes, bytesReceived: p.bytes };
    });
  }
}
