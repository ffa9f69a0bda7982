// Master side of the legacy (Pika 2.x / 3.0) replication, as a real 3.0.16 master behaves
// (TrysyncCmd::Do in src/pika_admin.cc, AddBinlogSender in src/pika_server.cc, the heartbeat thread @v3.0.16;
// observed in pika-vectors-3.0.16-legacy):
//   RESP port: `trysync <ip> <port> <filenum> <offset>` → TryAddSlave (a new sid per attempt, also for `wait`),
//     then AddBinlogSender: ok → `:<sid>`; filenum 4294967295 (force) or a purged file → bulk `wait` (full sync,
//     handed to `onWait`); a position past the producer → `-ERR InvalidOffset`; a known ip:port → `-ERR AlreadyExist`.
//   master port + 2000 (heartbeat, RESP): `spci <sid>` → `+OK`, then `ping` → `+PONG`. When that connection closes or
//     stays silent for `heartbeatTimeoutMs`, the slave is deleted and its binlog sender stopped.
//   Binlog sender: connects to the replica's port + 1000 (binlog-sender.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MasterCore } from '../master-core.ts';
import { comparePositions, fileName, type BinlogPosition } from '../binlog/physical-format.ts';
import { reply, RespRequestParser, type Reply } from '../resp/resp-codec.ts';
import { BinlogSender, type LegacyProfile } from './binlog-sender.ts';

export type { LegacyProfile } from './binlog-sender.ts';

export const FORCE_FILENUM = 0xffffffff;
export const BINLOG_RECEIVER_SHIFT = 1000;
export const RSYNC_DAEMON_SHIFT = 3000;

export interface LegacyReplicationOptions {
  profile: LegacyProfile;
  host: string;
  /** Heartbeat port (RESP port + 2000); 0 = ephemeral. */
  heartbeatPort: number;
  serverId: number;
  /** Scaled timers: sender connect delay and retry, heartbeat timeout. */
  senderConnectDelayMs: number;
  senderRetryMs: number;
  heartbeatTimeoutMs: number;
  /** Called when a TRYSYNC is answered `wait`: the full sync (bgsave + rsync push) is the caller's. */
  onWait?(slave: { ip: string; port: number; rsyncPort: number; module: string }): void;
  /** The ip:port this master names itself in the rsync module (`document_<ip>:<port>`). */
  selfIp: string;
  selfPort(): number;
}

export interface LegacySlave {
  sid: number;
  ip: string;
  port: number;
  sender: BinlogSender | undefined;
  heartbeat: Socket | undefined;
  /** ms (monotonic) of the last heartbeat request. */
  lastHeartbeatAt: number;
}

export class LegacyReplication {
  readonly slaves = new Map<string, LegacySlave>();
  /** Every TRYSYNC reply in order, as text (tests). */
  readonly trysyncLog: Array<{ request: string[]; reply: string }> = [];
  private nextSid = 1;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private cron: NodeJS.Timeout | undefined;

  constructor(private readonly core: MasterCore, private readonly options: LegacyReplicationOptions) {
    this.server = createServer((socket) => this.acceptHeartbeat(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.heartbeatPort, this.options.host, () => resolve());
    });
    this.cron = setInterval(() => this.checkHeartbeats(), Math.max(10, this.options.heartbeatTimeoutMs / 10));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('heartbeat server has no TCP address');
    return address.port;
  }

  async close(): Promise<void> {
    if (this.cron) clearInterval(this.cron);
    for (const slave of [...this.slaves.values()]) this.deleteSlave(slave);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Drops every replication connection (sender and heartbeat); slaves are deleted like on a network cut. */
  cutConnections(): void {
    for (const slave of [...this.slaves.values()]) this.deleteSlave(slave);
  }

  /** `trysync` on the RESP port. */
  trysync(argv: Buffer[]): Reply {
    const request = argv.map((a) => a.toString('latin1'));
    const out = this.trysyncReply(request);
    this.trysyncLog.push({ request, reply: out.toString('latin1') });
    return out;
  }

  private trysyncReply([, ip, portText, filenumText, offsetText, ...rest]: string[]): Reply {
    if (ip === undefined || offsetText === undefined || rest.length > 0) return reply.error("ERR wrong number of arguments for 'trysync' command");
    const port = Number(portText);
    const filenum = Number(filenumText);
    const offset = Number(offsetText);
    if (![port, filenum, offset].every((n) => Number.isSafeInteger(n) && n >= 0)) return reply.error('ERR Invalid argument');
    const key = `${ip}:${port}`;
    if (this.slaves.has(key)) return reply.error('ERR AlreadyExist');
    const sid = this.nextSid++;
    const dir = this.core.binlogDir(0);
    const producer = this.core.binlogPosition(0);
    const start: BinlogPosition = { filenum, offset };
    // AddBinlogSender: force → Incomplete (wait); past the producer → InvalidOffset; file gone (purged) → wait.
    const force = filenum === FORCE_FILENUM;
    if (!force && comparePositions(start, producer) > 0) return reply.error('ERR InvalidOffset');
    if (force || !existsSync(join(dir, fileName(filenum)))) {
      const module = `document_${this.options.selfIp}:${this.options.selfPort()}`;
      this.options.onWait?.({ ip, port, rsyncPort: port + RSYNC_DAEMON_SHIFT, module });
      return reply.bulk('wait');
    }
    const slave: LegacySlave = { sid, ip, port, sender: undefined, heartbeat: undefined, lastHeartbeatAt: performance.now() };
    slave.sender = new BinlogSender({
      profile: this.options.profile, host: ip, port: port + BINLOG_RECEIVER_SHIFT, sid, serverId: this.options.serverId, dir, start,
      connectDelayMs: this.options.senderConnectDelayMs, retryMs: this.options.senderRetryMs, pollMs: 5,
    });
    this.slaves.set(key, slave);
    return reply.int(sid);
  }

  private deleteSlave(slave: LegacySlave): void {
    slave.sender?.stop();
    slave.heartbeat?.destroy();
    const key = `${slave.ip}:${slave.port}`;
    if (this.slaves.get(key) === slave) this.slaves.delete(key);
  }

  private slaveBySid(sid: number): LegacySlave | undefined {
    for (const slave of this.slaves.values()) if (slave.sid === sid) return slave;
    return undefined;
  }

  private checkHeartbeats(): void {
    const now = performance.now();
    for (const slave of [...this.slaves.values()]) {
      if (now - slave.lastHeartbeatAt > this.options.heartbeatTimeoutMs) this.deleteSlave(slave);
    }
  }

  private acceptHeartbeat(socket: Socket): void {
    this.sockets.add(socket);
    const parser = new RespRequestParser();
    let slave: LegacySlave | undefined;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (slave) this.deleteSlave(slave); // the heartbeat conn's close kills the slave and its sender
    });
    socket.on('data', (chunk) => {
      let requests: Buffer[][];
      try {
        requests = parser.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const argv of requests) {
        const name = argv[0]?.toString('latin1').toLowerCase();
        if (name === 'spci') {
          const found = this.slaveBySid(Number(argv[1]?.toString('latin1')));
          if (!found) { socket.end(reply.error('ERR Invalid sid')); return; }
          slave = found;
          slave.heartbeat = socket;
          slave.lastHeartbeatAt = performance.now();
          socket.write(reply.ok());
        } else if (name === 'ping' && slave) {
          slave.lastHeartbeatAt = performance.now();
          socket.write(reply.simple('PONG'));
        } else {
          socket.end(reply.error(`ERR unexpected heartbeat request '${name ?? ''}'`));
          return;
        }
      }
    });
  }
}
