// PB replication server on port+2000 with Pika 4.0.1's observable behaviour
// (src/pika_repl_server_conn.cc, pika_repl_server.cc, pika_rm.cc @v4.0.1; real replies in
// /work/shared/pika-vectors-errors). One TCP connection per slave identity carries all DBs; pushes go
// to the connection last mapped to the slave's ip:port (UpdateClientConnMap).
//
// Where a real 4.0.1 master crashes (DBSync / RemoveSlaveNode for an unknown DB) this server closes
// the connection instead and counts the event in `crashesAvoided`.

import { createServer, type Server, type Socket } from 'node:net';
import type { MasterCore } from '../master-core.ts';
import type { BinlogPosition } from '../binlog/physical-format.ts';
import { encodeFrame, FrameDecoder } from './frame-codec.ts';
import {
  decodeInnerRequest, encodeInnerResponse, MsgType, StatusCode, TrySyncReply,
  type InnerRequest, type PbNode, type PbOffset,
} from './pb-messages.ts';
import { monotonicMs, type ReplTimings } from './repl-clock.ts';
import { SyncMasterDb } from './sync-master-db.ts';
import type { SlaveNode } from './slave-node.ts';

export interface ReplServerOptions {
  host: string;
  port: number;
  /** Host/port the master reports about itself (RemoveSlaveNode replies). */
  selfIp: string;
  selfPort(): number;
  requirepass?: string;
  /** db-instance-num (4.0 only; omitted from MetaSync in the 3.5 profile). */
  dbInstanceNum: number;
  syncWindowSize: number;
  timings: ReplTimings;
  /** '3.4': Pika 3.1–3.4 replies (MetaSync without run_id / replication_id). Default: the core's profile. */
  wireProfile?: '3.4';
  /** Seam for full sync: called when a DBSync request was accepted (dump production lives elsewhere). */
  onDbSync?(db: number, node: PbNode, filenum: number): void;
}

interface ReplConnection {
  id: number;
  socket: Socket;
  decoder: FrameDecoder;
  lastReadMs: number;
  stalled: boolean;
  held: Buffer[];
}

const BATCH_ITEMS = 100; // kBinlogSendBatchNum
const BATCH_MESSAGES = 40; // kBinlogSendPacketNum

export class ReplServer {
  readonly dbs: SyncMasterDb[];
  /** TryAddSlave registry: ip:port → connection that registered it with MetaSync. */
  private readonly slaves = new Map<string, ReplConnection>();
  /** UpdateClientConnMap: ip:port → connection that receives pushes. */
  private readonly connMap = new Map<string, ReplConnection>();
  private readonly connections = new Set<ReplConnection>();
  private readonly server: Server;
  private auxTimer: NodeJS.Timeout | undefined;
  private wakePending = false;
  private nextConnId = 1;
  private corruptNext = false;
  private readonly unsubscribe: () => void;
  crashesAvoided = 0;

  constructor(private readonly core: MasterCore, private readonly options: ReplServerOptions) {
    this.dbs = Array.from({ length: core.dbCount }, (_, db) => new SyncMasterDb(db, core, options.syncWindowSize));
    this.server = createServer((socket) => this.accept(socket));
    core.purgeVeto = (db, filenum) => this.dbs[db]!.vetoesPurge(filenum);
    this.unsubscribe = core.onAppend(() => this.wake());
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.auxTimer = setInterval(() => this.auxCycle(), this.options.timings.auxPeriodMs);
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('replication server has no TCP address');
    return address.port;
  }

  async close(): Promise<void> {
    if (this.auxTimer) clearInterval(this.auxTimer);
    this.unsubscribe();
    for (const conn of this.connections) conn.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- fault hooks ----

  /** Drops every replication connection (the slaves see a reset/close). */
  cutConnections(): void {
    for (const conn of this.connections) conn.socket.destroy();
  }

  /** Stops (true) or resumes (false) reading requests and sending frames on every connection. */
  stall(on: boolean): void {
    for (const conn of this.connections) {
      conn.stalled = on;
      if (on) conn.socket.pause();
      else {
        for (const frame of conn.held.splice(0)) conn.socket.write(frame);
        conn.socket.resume();
      }
    }
  }

  /** The next frame sent (any connection) has its protobuf body replaced by bytes that do not parse. */
  corruptNextFrame(): void {
    this.corruptNext = true;
  }

  /** `INFO replication` text in Pika's format. */
  infoReplication(): string {
    const lines = ['# Replication(MASTER)', 'role:master', `ReplicationID:${this.core.replicationId}`, `connected_slaves:${this.slaves.size}`];
    let i = 0;
    for (const [key, conn] of this.slaves) {
      const [ip, port] = key.split(':');
      const lag = this.dbs.map((d) => {
        const node = d.node(ip!, Number(port));
        return node?.state === 'BinlogSync' ? `(db${d.db}:0)` : '';
      }).join('');
      lines.push(`slave${i++}:ip=${ip},port=${port},conn_fd=${conn.id},lag=${lag || 'not syncing'}`);
    }
    lines.push('is_eligible_for_master_election:true');
    for (const d of this.dbs) {
      const p = d.producer();
      lines.push(`db${d.db}:binlog_offset=${p.filenum} ${p.offset},safety_purge=none`);
    }
    return lines.join('\r\n') + '\r\n';
  }

  // ---- connections ----

  private accept(socket: Socket): void {
    const conn: ReplConnection = { id: this.nextConnId++, socket, decoder: new FrameDecoder(), lastReadMs: monotonicMs(), stalled: false, held: [] };
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      conn.lastReadMs = monotonicMs();
      let bodies: Buffer[];
      try {
        bodies = conn.decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const body of bodies) {
        if (socket.destroyed) return;
        this.dealMessage(conn, body);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.lostConnection(conn));
  }

  /** DeleteSlave(fd): the registry entry of this connection and all its DB nodes go away. */
  private lostConnection(conn: ReplConnection): void {
    this.connections.delete(conn);
    for (const [key, c] of this.connMap) if (c === conn) this.connMap.delete(key);
    for (const [key, c] of this.slaves) {
      if (c !== conn) continue;
      this.slaves.delete(key);
      const [ip, port] = key.split(':');
      for (const d of this.dbs) d.removeNode(ip!, Number(port));
    }
  }

  private closeConn(conn: ReplConnection): void {
    conn.socket.end();
    conn.socket.destroySoon();
  }

  private send(conn: ReplConnection, response: Record<string, unknown>): void {
    let body = encodeInnerResponse(response, this.options.wireProfile ?? this.core.options.profile);
    if (this.corruptNext) {
      this.corruptNext = false;
      body = Buffer.alloc(body.length, 0xff);
    }
    const frame = encodeFrame(body);
    if (conn.stalled) conn.held.push(frame);
    else conn.socket.write(frame);
  }

  private dealMessage(conn: ReplConnection, body: Buffer): void {
    let request: InnerRequest;
    try {
      request = decodeInnerRequest(body);
    } catch {
      this.closeConn(conn); // PikaReplServerConn::DealMessage: ParseFromArray failed → close
      return;
    }
    switch (request.type) {
      case MsgType.kMetaSync: return this.handleMetaSync(conn, request);
      case MsgType.kTrySync: return this.handleTrySync(conn, request);
      case MsgType.kDBSync: return this.handleDbSync(conn, request);
      case MsgType.kBinlogSync: return this.handleBinlogSync(conn, request);
      case MsgType.kRemoveSlaveNode: return this.handleRemoveSlaveNode(conn, request);
      default: return; // kHeatBeat: no handler, silently ignored
    }
  }

  private dbByName(name: string | undefined): SyncMasterDb | undefined {
    const match = /^db(\d+)$/.exec(name ?? '');
    return match ? this.dbs[Number(match[1])] : undefined;
  }

  private handleMetaSync(conn: ReplConnection, request: InnerRequest): void {
    const meta = request.meta_sync;
    if (!meta) { this.closeConn(conn); return; }
    if (this.options.requirepass && meta.auth !== this.options.requirepass) {
      this.send(conn, { type: MsgType.kMetaSync, code: StatusCode.kError, reply: 'Auth with master error, Invalid masterauth' });
      return;
    }
    const key = `${meta.node.ip}:${meta.node.port}`;
    const alreadyExists = this.slaves.has(key);
    if (!alreadyExists) this.slaves.set(key, conn);
    this.connMap.set(key, conn);
    if (alreadyExists) {
      this.send(conn, { type: MsgType.kMetaSync, code: StatusCode.kOther, reply: 'Slave AlreadyExist' });
      return;
    }
    const is40 = this.core.options.profile === '4.0';
    this.send(conn, {
      type: MsgType.kMetaSync,
      code: StatusCode.kOk,
      meta_sync: {
        classic_mode: true,
        dbs_info: this.dbs.map((d) => ({
          db_name: d.dbName, slot_num: 1, ...(is40 ? { db_instance_num: this.options.dbInstanceNum } : {}),
        })),
        ...(this.options.wireProfile === '3.4' ? {} : { run_id: this.core.runId, replication_id: this.core.replicationId }),
      },
    });
  }

  private handleTrySync(conn: ReplConnection, request: InnerRequest): void {
    const req = request.try_sync;
    const slot = { db_name: req?.slot.db_name ?? '', slot_id: req?.slot.slot_id ?? 0 };
    const d = this.dbByName(req?.slot.db_name);
    if (!req || !d) {
      this.send(conn, { type: MsgType.kTrySync, code: StatusCode.kError, reply: 'DB not found', try_sync: { reply_code: TrySyncReply.kError, slot } });
      return;
    }
    const check = d.checkOffset(toPosition(req.binlog_offset));
    const trySync: Record<string, unknown> = {
      reply_code: check.replyCode, slot: { db_name: d.dbName, slot_id: 0 },
      binlog_offset: { filenum: check.master.filenum, offset: check.master.offset },
    };
    if (check.replyCode === TrySyncReply.kOk) {
      const isNew = !d.node(req.node.ip, req.node.port);
      const node = d.ensureNode(req.node.ip, req.node.port, monotonicMs());
      if (isNew) this.connMap.set(node.key, conn); // TrySyncUpdateSlaveNode maps the connection for new nodes only
      trySync.session_id = node.sessionId;
    }
    this.send(conn, { type: MsgType.kTrySync, code: StatusCode.kOk, try_sync: trySync });
  }

  private handleDbSync(conn: ReplConnection, request: InnerRequest): void {
    const req = request.db_sync;
    const d = this.dbByName(req?.slot.db_name);
    if (!req || !d) {
      this.crashesAvoided++; // real 4.0.1 master: null SyncMasterDB dereference, process dies
      this.closeConn(conn);
      return;
    }
    const node = d.ensureNode(req.node.ip, req.node.port, monotonicMs());
    this.connMap.set(node.key, conn);
    node.state = 'DbSync';
    node.reader = undefined;
    this.options.onDbSync?.(d.db, req.node, req.binlog_offset.filenum);
    this.send(conn, {
      type: MsgType.kDBSync, code: StatusCode.kOk,
      db_sync: { slot: { db_name: d.dbName, slot_id: 0 }, session_id: node.sessionId },
    });
  }

  private handleBinlogSync(conn: ReplConnection, request: InnerRequest): void {
    const req = request.binlog_sync;
    if (!req) return; // "Pb parse error": ignored
    const d = this.dbByName(req.db_name);
    if (!d) return;
    const node = d.node(req.node.ip, req.node.port);
    if (!node || node.sessionId !== req.session_id) return; // CheckSessionId failed: ignored
    const now = monotonicMs();
    node.lastRecvMs = now;
    const start = toPosition(req.ack_range_start);
    const end = toPosition(req.ack_range_end);
    if (req.first_send) {
      if (start.filenum !== end.filenum || start.offset !== end.offset) { this.closeConn(conn); return; }
      if (!d.activate(node, start)) { this.closeConn(conn); return; }
      this.pump(d, node, now);
      return;
    }
    if (start.filenum === 0 && start.offset === 0 && end.filenum === 0 && end.offset === 0) return; // ping
    if (!node.ack(start, end)) { this.closeConn(conn); return; } // "Update binlog ack failed"
    this.pump(d, node, now);
  }

  private handleRemoveSlaveNode(conn: ReplConnection, request: InnerRequest): void {
    const entry = request.remove_slave_node?.[0];
    if (!entry) { this.closeConn(conn); return; }
    const d = this.dbByName(entry.slot.db_name);
    if (!d) {
      this.crashesAvoided++; // real 4.0.1 master: SIGSEGV
      this.closeConn(conn);
      return;
    }
    d.removeNode(entry.node.ip, entry.node.port);
    this.send(conn, {
      type: MsgType.kRemoveSlaveNode, code: StatusCode.kOk,
      remove_slave_node: [{ node: { ip: this.options.selfIp, port: this.options.selfPort() }, slot: { db_name: d.dbName, slot_id: 0 } }],
    });
  }

  // ---- pushing ----

  private wake(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      const now = monotonicMs();
      for (const d of this.dbs) {
        for (const node of d.nodes.values()) {
          if (node.state === 'BinlogSync' && node.sentOffset.filenum === node.ackedOffset.filenum && node.sentOffset.offset === node.ackedOffset.offset) {
            this.pump(d, node, now);
          }
        }
      }
    });
  }

  private pump(d: SyncMasterDb, node: SlaveNode, now: number): void {
    d.fill(node, now);
    this.flushQueue(d, node);
  }

  /** ConsumeWriteQueue: up to 40 messages of up to 100 items per slave per DB per cycle. */
  private flushQueue(d: SyncMasterDb, node: SlaveNode): void {
    const conn = this.connMap.get(node.key);
    if (!conn || conn.socket.destroyed) return;
    for (let m = 0; m < BATCH_MESSAGES && node.writeQueue.length > 0; m++) {
      const batch = node.writeQueue.splice(0, BATCH_ITEMS);
      this.send(conn, {
        type: MsgType.kBinlogSync, code: StatusCode.kOk,
        binlog_sync: batch.map((q) => ({
          slot: { db_name: d.dbName, slot_id: 0 },
          binlog_offset: { filenum: q.end.filenum, offset: q.end.offset, term: q.termId, index: Number(q.logicId) },
          binlog: q.item,
          session_id: node.sessionId,
        })),
      });
    }
  }

  /** The auxiliary thread: top-ups, write queues, keepalives, slave drops, idle connection close. */
  private auxCycle(): void {
    const now = monotonicMs();
    const t = this.options.timings;
    for (const d of this.dbs) {
      for (const node of [...d.nodes.values()]) {
        if (node.lastRecvMs + t.recvTimeoutMs < now) {
          d.removeNode(node.ip, node.port);
          continue;
        }
        if (node.state === 'BinlogSync' && node.sentOffset.filenum === node.ackedOffset.filenum && node.sentOffset.offset === node.ackedOffset.offset) {
          d.fill(node, now);
        }
        this.flushQueue(d, node);
        if (d.needsKeepalive(node, now, t.keepaliveMs)) {
          node.lastSendMs = now;
          const conn = this.connMap.get(node.key);
          if (!conn || conn.socket.destroyed) continue;
          this.send(conn, {
            type: MsgType.kBinlogSync, code: StatusCode.kOk,
            binlog_sync: [{
              slot: { db_name: d.dbName, slot_id: 0 },
              binlog_offset: { filenum: 0, offset: 0, term: 0, index: 0 },
              binlog: Buffer.alloc(0),
              session_id: node.sessionId,
            }],
          });
        }
      }
    }
    for (const conn of this.connections) {
      if (!conn.stalled && conn.lastReadMs + t.idleCloseMs < now) this.closeConn(conn);
    }
  }
}

function toPosition(offset: PbOffset): BinlogPosition {
  return { filenum: offset.filenum, offset: Number(offset.offset) };
}
