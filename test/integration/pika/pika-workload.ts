// Commands of every data type for the end-to-end tests, each with the events Pika 4.0.1 turns it into
// (its binlog rewrites: SET EX/INCR/APPEND → pksetexat, EXPIRE → expireat, MSET/DEL split per key;
// pika-protocol.md §6.4), plus a minimal RESP client to send them to the test master's RESP port.
import { connect, type Socket } from 'node:net';

export interface WorkloadCommand {
  db: number;
  argv: string[];
  /** Expected events as [op, key] (key null for keyless commands). */
  events: Array<[string, string | null]>;
}

export const WORKLOAD: WorkloadCommand[] = [
  { db: 0, argv: ['SET', 's1', 'v1'], events: [['set', 's1']] },
  { db: 0, argv: ['SET', 's2', 'v2', 'EX', '100'], events: [['pksetexat', 's2']] },
  { db: 0, argv: ['INCR', 'n'], events: [['pksetexat', 'n']] },
  { db: 0, argv: ['APPEND', 's1', 'x'], events: [['pksetexat', 's1']] },
  { db: 0, argv: ['MSET', 'm1', 'a', 'm2', 'b'], events: [['set', 'm1'], ['set', 'm2']] },
  { db: 0, argv: ['SETNX', 's3', 'v'], events: [['setnx', 's3']] },
  { db: 0, argv: ['HSET', 'h', 'f', 'v'], events: [['hset', 'h']] },
  { db: 0, argv: ['HMSET', 'h', 'f2', 'v2', 'f3', 'v3'], events: [['hmset', 'h']] },
  { db: 0, argv: ['HINCRBY', 'h', 'cnt', '5'], events: [['hincrby', 'h']] },
  { db: 0, argv: ['HDEL', 'h', 'f'], events: [['hdel', 'h']] },
  { db: 0, argv: ['LPUSH', 'l', 'a', 'b'], events: [['lpush', 'l']] },
  { db: 0, argv: ['RPUSH', 'l', 'c'], events: [['rpush', 'l']] },
  { db: 0, argv: ['LPOP', 'l'], events: [['lpop', 'l']] },
  { db: 0, argv: ['SADD', 'st', 'a', 'b', 'c'], events: [['sadd', 'st']] },
  { db: 0, argv: ['SREM', 'st', 'a'], events: [['srem', 'st']] },
  { db: 0, argv: ['ZADD', 'z', '1', 'a', '2', 'b'], events: [['zadd', 'z']] },
  { db: 0, argv: ['ZINCRBY', 'z', '3', 'a'], events: [['zincrby', 'z']] },
  { db: 0, argv: ['ZREM', 'z', 'b'], events: [['zrem', 'z']] },
  { db: 0, argv: ['XADD', 'xs', '*', 'f', 'v'], events: [['xadd', 'xs']] },
  { db: 0, argv: ['SETBIT', 'bits', '7', '1'], events: [['setbit', 'bits']] },
  { db: 0, argv: ['PFADD', 'hll', 'a', 'b'], events: [['pfadd', 'hll']] },
  { db: 0, argv: ['EXPIRE', 'h', '100'], events: [['expireat', 'h']] },
  { db: 0, argv: ['DEL', 's3', 'm1'], events: [['del', 's3'], ['del', 'm1']] },
  { db: 0, argv: ['PERSIST', 'h'], events: [['persist', 'h']] },
  { db: 1, argv: ['SET', 'k1', 'v'], events: [['set', 'k1']] },
  { db: 1, argv: ['HSET', 'h1', 'f', 'v'], events: [['hset', 'h1']] },
  { db: 1, argv: ['FLUSHDB'], events: [['flushdb', null]] },
  { db: 1, argv: ['SET', 'k2', 'v'], events: [['set', 'k2']] },
];

const encode = (argv: string[]): Buffer =>
  Buffer.concat([Buffer.from(`*${argv.length}\r\n`), ...argv.map((a) => Buffer.from(`$${Buffer.byteLength(a)}\r\n${a}\r\n`))]);

/** Length of the first complete RESP reply in `buf`, or -1 when incomplete. */
function replyLength(buf: Buffer, at = 0): number {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return -1;
  const line = buf.toString('latin1', at + 1, eol);
  switch (String.fromCharCode(buf[at]!)) {
    case '+': case '-': case ':': return eol + 2 - at;
    case '$': {
      const n = Number(line);
      if (n < 0) return eol + 2 - at;
      return buf.length >= eol + 2 + n + 2 ? eol + 2 + n + 2 - at : -1;
    }
    case '*': {
      let pos = eol + 2;
      for (let i = 0; i < Math.max(0, Number(line)); i++) {
        const len = replyLength(buf, pos);
        if (len < 0) return -1;
        pos += len;
      }
      return pos - at;
    }
    default: throw new Error(`unexpected RESP reply byte ${buf[at]}`);
  }
}

/** One RESP connection; `command` sends and resolves with the reply text (errors reject). */
export class RespClient {
  private buffer = Buffer.alloc(0);
  private waiting: Array<(reply: string) => void> = [];
  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const len = this.buffer.length === 0 ? -1 : replyLength(this.buffer);
        if (len < 0) break;
        const text = this.buffer.toString('latin1', 0, len);
        this.buffer = this.buffer.subarray(len);
        this.waiting.shift()?.(text);
      }
    });
  }

  static open(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  async command(argv: string[]): Promise<string> {
    const reply = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(encode(argv));
    });
    if (reply.startsWith('-')) throw new Error(`${argv.join(' ')} → ${reply.trim()}`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs the workload over RESP (SELECT per DB change). */
export async function runWorkload(port: number, commands: WorkloadCommand[] = WORKLOAD): Promise<void> {
  const client = await RespClient.open(port);
  let db = -1;
  try {
    for (const c of commands) {
      if (c.db !== db) {
        await client.command(['SELECT', String(c.db)]);
        db = c.db;
      }
      await client.command(c.argv);
    }
  } finally {
    client.close();
  }
}
