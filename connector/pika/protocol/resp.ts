// Strict parser for the RESP content of a Pika binlog item: exactly one array of bulk strings, nothing after it.
//
//   command := "*" count CRLF bulk{count}
//   bulk    := "$" length CRLF <length bytes> CRLF
//   count, length := decimal digits (no sign, no leading "+"), count >= 1
//
// Pika writes this with Cmd::ToRedisProtocol / RedisAppendContent (pika-protocol.md §6.1); its replica feeds the
// bytes after the 34-byte header to a RESP request parser. Anything else (inline commands, null bulks, nested
// arrays, trailing bytes) is not something a master produces, so it is rejected with the byte offset.
import { PikaProtocolError } from './errors.ts';

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
/** Smallest possible encoded bulk string: "$0\r\n\r\n". */
const MIN_BULK_BYTES = 6;
/** Longest decimal accepted for a count/length (2^53 has 16 digits). */
const MAX_DIGITS = 15;

function fail(message: string, offset: number): never {
  throw new PikaProtocolError(`malformed RESP command at byte ${offset}: ${message}`, { code: 'PIKA_RESP' });
}

/** Reads `<digits>\r\n` at `pos`; returns [value, position after LF]. */
function readDecimal(buf: Uint8Array, pos: number, what: string): [number, number] {
  let value = 0;
  let i = pos;
  while (i < buf.length && buf[i] !== CR) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) fail(`${what} contains ${describeByte(c)}, expected a decimal digit`, i);
    if (i - pos >= MAX_DIGITS) fail(`${what} has more than ${MAX_DIGITS} digits`, pos);
    value = value * 10 + (c - 0x30);
    i++;
  }
  if (i === pos) fail(`${what} is empty`, pos);
  if (i + 1 >= buf.length) fail(`${what} is not terminated by CRLF (input ends)`, i);
  if (buf[i + 1] !== LF) fail(`${what} is followed by CR without LF`, i + 1);
  return [value, i + 2];
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * Parses one RESP array of bulk strings occupying all of `content`. Returned arguments are views into `content`
 * (no copies). Throws `PikaProtocolError` naming the offset of the first problem.
 */
export function parseRespCommand(content: Uint8Array): Buffer[] {
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (buf.length === 0) fail('content is empty', 0);
  if (buf[0] !== STAR) fail(`expected '*' (array), found ${describeByte(buf[0]!)}`, 0);
  const [count, afterCount] = readDecimal(buf, 1, 'array length');
  if (count === 0) fail('array has no elements (no command name)', 1);
  const maxCount = Math.floor((buf.length - afterCount) / MIN_BULK_BYTES);
  if (count > maxCount) fail(`array claims ${count} elements but only ${buf.length - afterCount} bytes follow`, 1);
  const args: Buffer[] = new Array<Buffer>(count);
  let pos = afterCount;
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) fail(`input ends before element ${i + 1} of ${count}`, pos);
    if (buf[pos] !== DOLLAR) fail(`element ${i + 1} of ${count}: expected '$' (bulk string), found ${describeByte(buf[pos]!)}`, pos);
    const [length, dataStart] = readDecimal(buf, pos + 1, `element ${i + 1} length`);
    const dataEnd = dataStart + length;
    if (dataEnd + 2 > buf.length) {
      fail(`element ${i + 1} of ${count} claims ${length} bytes but only ${Math.max(0, buf.length - dataStart)} remain`, pos);
    }
    if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) fail(`element ${i + 1} of ${count} is not followed by CRLF`, dataEnd);
    args[i] = buf.subarray(dataStart, dataEnd);
    pos = dataEnd + 2;
  }
  if (pos !== buf.length) fail(`${buf.length - pos} unexpected bytes after the command`, pos);
  return args;
}

/** Encodes arguments as one RESP array of bulk strings (the inverse of parseRespCommand). */
export function encodeRespCommand(args: ReadonlyArray<Uint8Array | string>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
