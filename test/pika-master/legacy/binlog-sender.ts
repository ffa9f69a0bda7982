// The master's BinlogSender of a legacy Pika (2.x / 3.0): connects to the replica's binlog receiver port
// (replica port + 1000), retries the connection until it succeeds, writes `auth <sid>` first, then every binlog item
// from the TRYSYNC position on, and keeps following the binlog. The replica never writes on this connection; flow
// control is TCP (pika-protocol.md §6.5, src/pika_binlog_sender_thread.cc @v3.0.16).
//   3.0: frames `[u16 LE type][u32 LE length][body]`, type 1 = RESP `auth <sid>`, type 2 = the item as stored.
//   2.x: raw RESP, the item's command with four arguments appended (magic, server_id, binlog_info, send_to_hub).
import { connect, type Socket } from 'node:net';
import { BinlogReader } from '../binlog/binlog-reader.ts';
import type { BinlogPosition } from '../binlog/physical-format.ts';
import { encodeRespArray, RespRequestParser } from '../resp/resp-codec.ts';

export type LegacyProfile = 'legacy-3.0' | 'legacy-2.x';

export const PIKA_V2_MAGIC = '__PIKA_X#$SKGI';
const ITEM_HEADER = 34;

export interface BinlogSenderOptions {
  profile: LegacyProfile;
  host: string;
  port: number;
  sid: number;
  serverId: number;
  dir: string;
  start: BinlogPosition;
  /** Delay before the first connection attempt (the real one connects ~2 s after the sid). */
  connectDelayMs: number;
  /** Between failed connection attempts. */
  retryMs: number;
  /** How often new binlog items are looked for. */
  pollMs: number;
}

function frame(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(type, 0);
  header.writeUInt32LE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** 2.x wire form of one stored item: its command plus the affiliated arguments (start position in binlog_info). */
export function v2Command(item: Buffer, serverId: number): Buffer {
  const [argv] = new RespRequestParser().push(item.subarray(ITEM_HEADER));
  if (!argv) throw new Error('binlog item without a complete RESP command');
  const info = Buffer.alloc(16);
  info.writeUInt32LE(item.readUInt32LE(2), 0); // exec_time
  info.writeUInt32LE(item.readUInt32LE(18), 4); // filenum
  info.writeBigUInt64LE(item.readBigUInt64LE(22), 8); // offset
  return encodeRespArray([...argv, Buffer.from(PIKA_V2_MAGIC, 'latin1'), Buffer.from(String(serverId)), info, Buffer.from('0')]);
}

export class BinlogSender {
  private socket: Socket | undefined;
  private reader: BinlogReader;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Items written to the replica so far (tests). */
  sent = 0;

  constructor(private readonly options: BinlogSenderOptions) {
    this.reader = new BinlogReader(options.dir, options.start);
    this.timer = setTimeout(() => this.tryConnect(), options.connectDelayMs);
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private tryConnect(): void {
    if (this.stopped) return;
    const socket = connect({ host: this.options.host, port: this.options.port });
    socket.once('error', () => {
      socket.destroy();
      if (!this.stopped && this.socket === undefined) this.timer = setTimeout(() => this.tryConnect(), this.options.retryMs);
    });
    socket.once('connect', () => {
      if (this.stopped) { socket.destroy(); return; }
      this.socket = socket;
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      const auth = encodeRespArray([Buffer.from('auth'), Buffer.from(String(this.options.sid))]);
      socket.write(this.options.profile === 'legacy-3.0' ? frame(1, auth) : auth);
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped || !this.socket || this.socket.destroyed) return;
    const socket = this.socket;
    for (let i = 0; i < 1000; i++) {
      const read = this.reader.next();
      if (!read) break;
      const bytes = this.options.profile === 'legacy-3.0' ? frame(2, read.item) : v2Command(read.item, this.options.serverId);
      this.sent++;
      if (!socket.write(bytes)) {
        socket.once('drain', () => this.pump());
        return;
      }
    }
    this.timer = setTimeout(() => this.pump(), this.options.pollMs);
  }
}
