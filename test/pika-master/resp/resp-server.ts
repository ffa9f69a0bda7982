// The master's client port: RESP over TCP. Connection-level commands (AUTH, SELECT, PING, INFO,
// QUIT) are handled here; everything else goes to MasterCore.exec in the connection's DB.

import { createServer, type Server, type Socket } from 'node:net';
import type { MasterCore } from '../master-core.ts';
import { reply, RespProtocolError, RespRequestParser, type Reply } from './resp-codec.ts';

export interface RespServerOptions {
  host: string;
  port: number;
  requirepass?: string;
  /** Text of `INFO replication` (the replication server knows its slaves). */
  infoReplication(): string;
  /** Commands answered outside the data core (legacy `trysync`); undefined = not handled here. */
  extraCommand?(name: string, argv: Buffer[]): Reply | undefined;
}

export class RespServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly core: MasterCore, private readonly options: RespServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('RESP server has no TCP address');
    return address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const parser = new RespRequestParser();
    const session = { db: 0, authed: !this.options.requirepass };
    socket.on('data', (chunk) => {
      let requests: Buffer[][];
      try {
        requests = parser.push(chunk);
      } catch (err) {
        if (err instanceof RespProtocolError) {
          socket.end(reply.error(`ERR Protocol error: ${err.message}`));
          return;
        }
        throw err;
      }
      for (const argv of requests) {
        if (argv.length === 0) continue;
        const name = argv[0]!.toString('latin1').toLowerCase();
        if (name === 'quit') {
          socket.end(reply.ok());
          return;
        }
        socket.write(this.handle(session, name, argv));
      }
    });
  }

  private handle(session: { db: number; authed: boolean }, name: string, argv: Buffer[]): Reply {
    if (name === 'auth') {
      if (!this.options.requirepass) return reply.error('ERR Client sent AUTH, but no password is set');
      session.authed = argv[1]?.toString('latin1') === this.options.requirepass;
      return session.authed ? reply.ok() : reply.error('ERR invalid password');
    }
    if (!session.authed) return reply.error('NOAUTH Authentication required.');
    const extra = this.options.extraCommand?.(name, argv);
    if (extra) return extra;
    switch (name) {
      case 'ping':
        return argv[1] ? reply.bulk(argv[1]) : reply.simple('PONG');
      case 'select': {
        const db = Number(argv[1]?.toString('latin1'));
        if (!Number.isInteger(db) || db < 0 || db >= this.core.dbCount) return reply.error('ERR invalid DB index');
        session.db = db;
        return reply.ok();
      }
      case 'info': {
        const section = argv[1]?.toString('latin1').toLowerCase();
        if (section && section !== 'replication' && section !== 'all') return reply.bulk('');
        return reply.bulk(this.options.infoReplication());
      }
      default:
        return this.core.exec(session.db, argv);
    }
  }
}
