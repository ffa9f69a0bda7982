// The replica's binlog receiver for legacy masters: a TCP server on the replica port + 1000 that the master's
// BinlogSender connects to. The first byte of a connection tells 3.0 frames (0x01) from 2.x raw RESP ('*');
// the first message must be `auth <sid>`. Each connection is handed to the session (`onStream`) only after that
// auth, which the session checks against its current TRYSYNC sid; items then flow to `onItem`. The replica never
// writes on these connections.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeRespCommand } from '../protocol/resp.ts';
import type { BinlogPosition } from '../binlog/item.ts';
import { LegacyFrameDecoder, type LegacyBinlogItem } from './frame-decoder.ts';
import { LegacyHandshakeError } from './handshake.ts';
import { legacyProfileFromStream } from './protocol-detect.ts';
import { V2StreamDecoder, type V2Command } from './v2-stream.ts';

export type LegacyStreamProfile = 'legacy-3.0' | 'legacy-2.x';

export interface LegacyReceivedItem {
  item: LegacyBinlogItem;
  /** 3.0: the master's binlog position after the item; 2.x: its start (the 2.x stream does not tell the size). */
  end: BinlogPosition;
}

export interface LegacyStream {
  readonly id: number;
  readonly profile: LegacyStreamProfile;
  readonly sid: number;
  readonly remote: string;
  /** Stops / resumes reading (TCP then slows the master's sender down). */
  pause(on: boolean): void;
  close(): void;
}

export interface LegacyReceiverHandlers {
  /** A sender authenticated; return false to refuse (close) the connection. */
  onStream(stream: LegacyStream): boolean;
  onItem(stream: LegacyStream, item: LegacyReceivedItem): void;
  /** An accepted stream ended (`error` = why: closed by the master, malformed bytes…). */
  onStreamEnd(stream: LegacyStream, error: Error): void;
}

/** A 2.x command as the item shape of 3.0 (logic ids do not exist in 2.x: 0). */
export function v2CommandToItem(command: V2Command): LegacyBinlogItem {
  const content = encodeRespCommand(command.argv);
  return {
    type: 1, execTime: command.execTime, termId: command.serverId, logicId: 0, start: command.start,
    contentLength: content.length, content, argv: command.argv, serverId: command.serverId,
  };
}

export class LegacyBinlogReceiver {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private nextId = 1;

  constructor(private readonly handlers: LegacyReceiverHandlers) {}

  /** Listens; a port in use or not allowed is a clear error naming it and its purpose. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new LegacyHandshakeError(
        `cannot listen on ${host}:${port} for the legacy master's binlog sender (replica port + 1000): ${error.code ?? error.message}` +
        (error.code === 'EADDRINUSE' ? '; another process (or another connector) uses it: choose another pika.replica.port or legacy.binlog.receiver.port' : ''),
        'PIKA_LEGACY_RECEIVER_LISTEN')));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    return address !== null && typeof address !== 'string' ? address.port : port;
  }

  /** Closes every sender connection (the server keeps listening). */
  dropStreams(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropStreams();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let stream: LegacyStream | undefined;
    let decode: ((chunk: Buffer) => void) | undefined;
    let finish: (() => void) | undefined;
    let ended = false;
    const end = (error: Error): void => {
      if (ended) return;
      ended = true;
      socket.destroy();
      if (stream) this.handlers.onStreamEnd(stream, error);
    };
    const authenticated = (profile: LegacyStreamProfile, sid: number): boolean => {
      stream = { id: this.nextId++, profile, sid, remote, pause: (on) => { if (on) socket.pause(); else socket.resume(); }, close: () => end(new LegacyHandshakeError('closed by the replica', 'PIKA_LEGACY_UNEXPECTED')) };
      if (this.handlers.onStream(stream)) return true;
      stream = undefined;
      end(new Error('refused'));
      return false;
    };
    socket.on('close', () => {
      this.sockets.delete(socket);
      try {
        finish?.();
        end(new LegacyHandshakeError(`the master's binlog sender ${remote} closed the connection`, 'PIKA_LEGACY_UNEXPECTED'));
      } catch (error) {
        end(error as Error);
      }
    });
    socket.on('error', (error) => end(new LegacyHandshakeError(`binlog sender connection ${remote} failed: ${error.message}`, 'PIKA_LEGACY_UNEXPECTED')));
    socket.on('data', (chunk: Buffer) => {
      if (ended) return;
      try {
        if (!decode) {
          const profile = legacyProfileFromStream(chunk[0]!);
          if (profile === 'legacy-3.0') {
            const decoder = new LegacyFrameDecoder();
            finish = () => decoder.end();
            decode = (bytes) => {
              for (const frame of decoder.push(bytes)) {
                if (ended) return;
                if (frame.kind === 'auth') {
                  if (!authenticated(profile, frame.sid)) return;
                } else {
                  this.handlers.onItem(stream!, { item: frame.item, end: frame.end });
                }
              }
            };
          } else {
            const decoder = new V2StreamDecoder();
            finish = () => decoder.end();
            decode = (bytes) => {
              for (const message of decoder.push(bytes)) {
                if (ended) return;
                if (message.kind === 'auth') {
                  if (!authenticated(profile, message.sid)) return;
                } else {
                  this.handlers.onItem(stream!, { item: v2CommandToItem(message.command), end: message.command.start });
                }
              }
            };
          }
        }
        decode(chunk);
      } catch (error) {
        end(error as Error);
      }
    });
  }
}
