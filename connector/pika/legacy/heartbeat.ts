// The replica's heartbeat to a legacy master (port + 2000): `spci <sid>` once (→ +OK), then `ping` every second
// (→ +PONG). The master deletes the slave and stops its binlog sender when this connection closes or goes quiet,
// so closing it is also how a replica ends its session. A missing reply for `replyTimeoutMs` means the master is
// gone: `onClose` fires with the reason.
import type { Socket } from 'node:net';
import { LegacyHandshakeError, checkHeartbeatReply, encodePing, encodeSpci, HEARTBEAT_INTERVAL_MS } from './handshake.ts';
import { LegacyReplyReader } from './replies.ts';
import { connectTo } from './tcp.ts';

export class LegacyHeartbeat {
  /** Called once when the heartbeat ends for any reason other than `close()`. */
  onClose: (reason: Error) => void = () => {};
  pingsSent = 0;
  private readonly reader = new LegacyReplyReader();
  private readonly outstanding: Array<'spci' | 'ping'> = [];
  private timer: NodeJS.Timeout | undefined;
  private lastReplyAt = performance.now();
  private closed = false;

  private constructor(private readonly socket: Socket, private readonly intervalMs: number, private readonly replyTimeoutMs: number) {}

  /** Connects, sends spci and resolves once the master answered +OK. */
  static async open(host: string, port: number, sid: number, options: { intervalMs?: number; replyTimeoutMs: number; connectTimeoutMs: number }): Promise<LegacyHeartbeat> {
    const socket = await connectTo(host, port, "the master's heartbeat port (legacy spci/ping, master port + 2000)", options.connectTimeoutMs);
    const hb = new LegacyHeartbeat(socket, options.intervalMs ?? HEARTBEAT_INTERVAL_MS, options.replyTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      hb.onClose = reject;
      hb.start(sid, resolve);
    });
    return hb;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.socket.destroy();
  }

  private end(reason: Error): void {
    if (this.closed) return;
    this.close();
    this.onClose(reason);
  }

  private start(sid: number, acknowledged: () => void): void {
    const where = `${this.socket.remoteAddress}:${this.socket.remotePort}`;
    this.socket.on('data', (chunk: Buffer) => {
      try {
        for (const reply of this.reader.push(chunk)) {
          const request = this.outstanding.shift();
          if (!request) throw new LegacyHandshakeError(`heartbeat ${where}: a reply nobody asked for`, 'PIKA_LEGACY_UNEXPECTED');
          checkHeartbeatReply(reply, request);
          this.lastReplyAt = performance.now();
          if (request === 'spci') acknowledged();
        }
      } catch (error) {
        this.end(error as Error);
      }
    });
    this.socket.on('error', (error) => this.end(new LegacyHandshakeError(`heartbeat connection ${where} failed: ${error.message}`, 'PIKA_LEGACY_UNEXPECTED')));
    this.socket.on('close', () => this.end(new LegacyHandshakeError(`the master closed the heartbeat connection ${where}`, 'PIKA_LEGACY_UNEXPECTED')));
    this.outstanding.push('spci');
    this.socket.write(encodeSpci(sid));
    this.timer = setInterval(() => {
      if (performance.now() - this.lastReplyAt > this.replyTimeoutMs) {
        this.end(new LegacyHandshakeError(`the master did not answer the heartbeat ${where} for ${this.replyTimeoutMs} ms`, 'PIKA_LEGACY_UNEXPECTED'));
        return;
      }
      if (this.outstanding.length > 0 && this.outstanding[0] === 'spci') return;
      this.outstanding.push('ping');
      this.pingsSent++;
      this.socket.write(encodePing());
    }, this.intervalMs);
  }
}
