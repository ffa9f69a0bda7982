// Master-side replication state of one DB (SyncMasterDB, src/pika_rm.cc @v4.0.1): slave nodes keyed
// by ip:port, per-DB session counter, binlog reading into the sync window, keepalive/drop decisions.

import { BinlogReader, binlogFileExists, seekRecordBoundary } from '../binlog/binlog-reader.ts';
import type { BinlogPosition } from '../binlog/physical-format.ts';
import { comparePositions } from '../binlog/physical-format.ts';
import type { MasterCore } from '../master-core.ts';
import { SlaveNode, samePosition, type QueuedItem } from './slave-node.ts';
import { TrySyncReply } from './pb-messages.ts';

/** Window bytes above which no more items are queued (PIKA_MAX_CONN_RBUF_HB * 2 = 1 GiB). */
const MAX_WINDOW_BYTES = 1024 * 1024 * 1024;

export type OffsetCheck =
  | { replyCode: typeof TrySyncReply.kOk; master: BinlogPosition }
  | { replyCode: number; master: BinlogPosition };

export class SyncMasterDb {
  readonly nodes = new Map<string, SlaveNode>();
  private sessionCounter = 0;

  constructor(readonly db: number, private readonly core: MasterCore, private readonly syncWindowSize: number) {}

  get dbName(): string {
    return `db${this.db}`;
  }

  producer(): BinlogPosition {
    const p = this.core.binlogPosition(this.db);
    return { filenum: p.filenum, offset: p.offset };
  }

  /** TrySyncOffsetCheck. */
  checkOffset(requested: BinlogPosition): OffsetCheck {
    const master = this.producer();
    if (comparePositions(master, requested) < 0) return { replyCode: TrySyncReply.kSyncPointLarger, master };
    const dir = this.core.binlogDir(this.db);
    if (!binlogFileExists(dir, requested.filenum)) return { replyCode: TrySyncReply.kSyncPointBePurged, master };
    if (seekRecordBoundary(dir, requested.filenum, requested.offset) !== requested.offset) {
      return { replyCode: TrySyncReply.kError, master };
    }
    return { replyCode: TrySyncReply.kOk, master };
  }

  /** Existing node's session, or a new node with the next session id (GenSessionId + AddSlaveNode). */
  ensureNode(ip: string, port: number, nowMs: number): SlaveNode {
    const key = `${ip}:${port}`;
    const existing = this.nodes.get(key);
    if (existing) return existing;
    const node = new SlaveNode(ip, port, this.db, this.sessionCounter++, nowMs, nowMs);
    this.nodes.set(key, node);
    return node;
  }

  node(ip: string, port: number): SlaveNode | undefined {
    return this.nodes.get(`${ip}:${port}`);
  }

  removeNode(ip: string, port: number): boolean {
    return this.nodes.delete(`${ip}:${port}`);
  }

  /** ActivateSlaveBinlogSync: reader seeks to `start`, queue and window reset. */
  activate(node: SlaveNode, start: BinlogPosition): boolean {
    const dir = this.core.binlogDir(this.db);
    if (!binlogFileExists(dir, start.filenum)) return false;
    node.state = 'BinlogSync';
    node.sentOffset = start;
    node.ackedOffset = start;
    node.reader = new BinlogReader(dir, start);
    node.writeQueue = [];
    node.window = [];
    return true;
  }

  /** ReadBinlogFileToWq: queue up to (window size − items in flight) new items. */
  fill(node: SlaveNode, nowMs: number): void {
    if (node.state !== 'BinlogSync' || !node.reader) return;
    const room = this.syncWindowSize - node.window.length;
    let windowBytes = node.windowBytes(); // kept up to date below: one pass instead of one per item
    for (let i = 0; i < room; i++) {
      if (windowBytes > MAX_WINDOW_BYTES) break;
      const read = node.reader.next();
      if (!read) break;
      windowBytes += read.item.length;
      const queued: QueuedItem = {
        end: read.end,
        termId: read.item.readUInt32LE(6),
        logicId: read.item.readBigUInt64LE(10),
        item: read.item,
      };
      node.window.push({ end: read.end, bytes: read.item.length, acked: false });
      node.writeQueue.push(queued);
      node.sentOffset = read.end;
      node.lastSendMs = nowMs;
    }
  }

  /** Nodes idle for a send with nothing in flight (CheckSyncTimeout's keepalive rule). */
  needsKeepalive(node: SlaveNode, nowMs: number, keepaliveMs: number): boolean {
    return node.lastSendMs + keepaliveMs < nowMs && samePosition(node.sentOffset, node.ackedOffset);
  }

  /** Binlog purge veto (BinlogCloudPurge): a DbSync slave blocks all, a BinlogSync slave its acked file on. */
  vetoesPurge(filenum: number): boolean {
    for (const node of this.nodes.values()) {
      if (node.state === 'DbSync') return true;
      if (node.state === 'BinlogSync' && filenum >= node.ackedOffset.filenum) return true;
    }
    return false;
  }
}
