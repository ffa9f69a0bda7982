// RESP (REdis Serialization Protocol) request parsing and reply encoding for the test master.
//
// Requests: `*<n>\r\n` followed by n bulk strings `$<len>\r\n<bytes>\r\n` (what redis-cli and Pika's
// own clients send), or an inline command line split on spaces. Replies are built as ready-to-send
// Buffers so command handlers stay pure.

const CRLF = Buffer.from('\r\n');

export class RespProtocolError extends Error {}

/** Streaming request parser: feed bytes as they arrive, collect complete argv arrays. */
export class RespRequestParser {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[][] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const requests: Buffer[][] = [];
    for (;;) {
      const parsed = this.parseOne();
      if (!parsed) break;
      requests.push(parsed.argv);
      this.buffer = this.buffer.subarray(parsed.consumed);
    }
    return requests;
  }

  private parseOne(): { argv: Buffer[]; consumed: number } | undefined {
    const buf = this.buffer;
    if (buf.length === 0) return undefined;
    if (buf[0] !== 0x2a /* '*' */) return this.parseInline();
    const headerEnd = buf.indexOf(CRLF);
    if (headerEnd < 0) return undefined;
    const count = parseDecimal(buf.subarray(1, headerEnd), 'multibulk length');
    let pos = headerEnd + 2;
    const argv: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (pos >= buf.length) return undefined;
      if (buf[pos] !== 0x24 /* '$' */) {
        throw new RespProtocolError(`expected '$' at byte ${pos}, got 0x${buf[pos]!.toString(16)}`);
      }
      const lenEnd = buf.indexOf(CRLF, pos);
      if (lenEnd < 0) return undefined;
      const len = parseDecimal(buf.subarray(pos + 1, lenEnd), 'bulk length');
      const start = lenEnd + 2;
      if (buf.length < start + len + 2) return undefined;
      argv.push(Buffer.from(buf.subarray(start, start + len)));
      pos = start + len + 2;
    }
    return { argv, consumed: pos };
  }

  private parseInline(): { argv: Buffer[]; consumed: number } | undefined {
    const end = this.buffer.indexOf(0x0a);
    if (end < 0) return undefined;
    const line = this.buffer.subarray(0, end).toString('latin1').replace(/\r$/, '');
    const argv = line.split(' ').filter((part) => part.length > 0).map((part) => Buffer.from(part, 'latin1'));
    return { argv, consumed: end + 1 };
  }
}

function parseDecimal(bytes: Buffer, what: string): number {
  const text = bytes.toString('latin1');
  if (!/^-?\d+$/.test(text)) throw new RespProtocolError(`invalid ${what} '${text}'`);
  return Number(text);
}

export type Reply = Buffer;

export const reply = {
  ok: (): Reply => Buffer.from('+OK\r\n'),
  simple: (text: string): Reply => Buffer.from(`+${text}\r\n`),
  error: (text: string): Reply => Buffer.from(`-${text}\r\n`),
  int: (n: number | bigint): Reply => Buffer.from(`:${n}\r\n`),
  nil: (): Reply => Buffer.from('$-1\r\n'),
  bulk: (value: Buffer | string | null | undefined): Reply => {
    if (value === null || value === undefined) return Buffer.from('$-1\r\n');
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF]);
  },
  array: (items: Reply[]): Reply => Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items]),
  bulkArray: (values: (Buffer | string | null)[]): Reply => reply.array(values.map((v) => reply.bulk(v))),
};

/** Encodes argv as a RESP array of bulk strings: the exact form Pika stores in binlog items. */
export function encodeRespArray(argv: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const arg of argv) parts.push(Buffer.from(`$${arg.length}\r\n`), arg, CRLF);
  return Buffer.concat(parts);
}
