// rsync2 server of the test master on RESP port + 10001, answering like Pika 4.0.1's RsyncServerConn
// (src/rsync_server.cc, include/rsync_server.h; real replies in /work/shared/pika-vectors-errors cases 24–42):
// - no authentication; requests on one connection are served concurrently (responses may be out of order);
// - meta: kErr with uuid "" for an unknown DB or while its bgsave runs; otherwise kOk with every file of the
//   current dump and `info` (before any bgsave: just `info`, uuid "");
// - file: kErr with uuid "" for an unknown DB; kErr with the current uuid when the file cannot be read; else
//   kOk, data ≤ count and never across a 16 MiB boundary, eof when the end of the file is reached, checksum "".
//   The name is not checked against the list (Pika reads `<bgsave path>/<name>`, `..` included); here reads
//   are confined to the master's directory, which holds a `pika.conf` for such probes;
// - 3.5.0–3.5.2 (option silentMetaWhileBgsaving): no reply at all to such a meta request;
// - `reader_index` outside 0..3 crashes a real master (SIGSEGV); here the connection is closed and counted.

import { createServer, type Server, type Socket } from 'node:net';
import { resolve, sep } from 'node:path';
import { FrameDecoder } from '../repl/frame-codec.ts';
import type { DbBgsave } from './bgsave.ts';
import { decodeRsyncRequest, encodeRsyncResponse, RsyncCode, RsyncType, type RsyncRequest, type RsyncResponse } from './rsync-messages.ts';
import { RsyncFileReader } from './rsync-reader.ts';

/** kMaxRsyncParallelNum (include/rsync_client.h @v4.0.1). */
export const RSYNC_READERS = 4;

export interface RsyncServerOptions {
  host: string;
  port: number;
  /** Root the server may read from (the master's data directory). */
  root: string;
  dbs: readonly DbBgsave[];
  /** 3.5.0–3.5.2: no reply to a meta request for an unknown DB or during a bgsave. */
  silentMetaWhileBgsaving?: boolean;
}

interface RsyncConnection {
  socket: Socket;
  readers: RsyncFileReader[];
}

/** Length prefix and body as two writes in one packet batch (a file reply's body is megabytes: not copied again). */
function writeFrame(socket: Socket, body: Buffer): void {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length, 0);
  socket.cork();
  socket.write(header);
  socket.write(body);
  socket.uncork();
}

export class RsyncServer {
  private readonly server: Server;
  private readonly connections = new Set<RsyncConnection>();
  crashesAvoided = 0;
  requestsServed = 0;

  constructor(private readonly options: RsyncServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.options.port, this.options.host, () => done());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('rsync server has no TCP address');
    return address.port;
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  cutConnections(): void {
    for (const conn of this.connections) conn.socket.destroy();
  }

  private accept(socket: Socket): void {
    const conn: RsyncConnection = { socket, readers: Array.from({ length: RSYNC_READERS }, () => new RsyncFileReader()) };
    this.connections.add(conn);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      let bodies: Buffer[];
      try {
        bodies = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const body of bodies) {
        if (socket.destroyed) return;
        let request: RsyncRequest;
        try {
          request = decodeRsyncRequest(body);
        } catch {
          socket.end(); // DealMessage returns -1 on a parse error: the connection is closed
          socket.destroySoon();
          return;
        }
        if (request.type === RsyncType.kRsyncFile && (request.reader_index < 0 || request.reader_index >= RSYNC_READERS)) {
          this.crashesAvoided++; // readers_[reader_index] out of range: the real master dies here
          socket.destroy();
          return;
        }
        void this.handle(conn, request).then((response) => {
          this.requestsServed++;
          if (response && !socket.destroyed) writeFrame(socket, encodeRsyncResponse(response));
        });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.connections.delete(conn);
      for (const r of conn.readers) void r.close();
    });
  }

  private async handle(conn: RsyncConnection, req: RsyncRequest): Promise<RsyncResponse | undefined> {
    const base = { type: req.type, reader_index: req.reader_index, db_name: req.db_name, slot_id: 0, code: RsyncCode.kOk, snapshot_uuid: '' };
    const db = this.options.dbs.find((d) => d.dbName === req.db_name);
    if (req.type === RsyncType.kRsyncMeta) {
      if (!db || db.bgsaving) return this.options.silentMetaWhileBgsaving ? undefined : { ...base, code: RsyncCode.kErr }; // "waiting bgsave done"
      const meta = await db.metaData();
      return { ...base, snapshot_uuid: meta.uuid, meta_resp: { filenames: meta.filenames } };
    }
    if (!db) return { ...base, code: RsyncCode.kErr }; // GetDumpUUID: db not found
    const uuid = await db.snapshotUuid();
    const filename = req.file_req?.filename ?? '';
    const offset = req.file_req?.offset ?? 0;
    const count = req.file_req?.count ?? 0;
    const path = resolve(db.path || '/', filename);
    const root = resolve(this.options.root);
    if (!db.path || (path !== root && !path.startsWith(root + sep))) return { ...base, snapshot_uuid: uuid, code: RsyncCode.kErr };
    try {
      const { data, eof } = await conn.readers[req.reader_index]!.read(path, offset, count);
      return {
        ...base, snapshot_uuid: uuid,
        file_resp: { eof: eof ? 1 : 0, count: data.length, offset, data, checksum: '', filename },
      };
    } catch {
      return { ...base, snapshot_uuid: uuid, code: RsyncCode.kErr };
    }
  }
}
