// Pika 2.x legacy binlog stream: the master's BinlogSender writes raw RESP commands to the replica's port+1000,
// first `auth <sid>`, then every logged write command with four affiliated arguments appended
// (Cmd::AppendAffiliatedInfo, include/pika_command.h@v2.3.6; pika-protocol.md §6.5):
//
//   <command args…> "__PIKA_X#$SKGI" <server_id decimal> <binlog_info 16 bytes> <"0"|"1" send_to_hub>
//   binlog_info = u32 LE exec_time | u32 LE filenum | u64 LE offset   (the producer position BEFORE this command)
//
// Pika's own receiver strips the four when the fourth-from-last argument is the magic (src/pika_master_conn.cc).
// A CDC needs the position, so a command without them is an error here, not a silent pass-through.
import type { BinlogPosition } from '../binlog/item.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import { parseRespCommand } from '../protocol/resp.ts';
import { decodeLegacyAuthBody } from './frame-decoder.ts';

export const PIKA_BINLOG_MAGIC = '__PIKA_X#$SKGI';
const MAGIC = Buffer.from(PIKA_BINLOG_MAGIC, 'latin1');
const BINLOG_INFO_LENGTH = 16;
/** Guard against a corrupt length: no single command is expected to exceed this. */
export const DEFAULT_MAX_V2_COMMAND = 512 * 1024 * 1024;

export interface V2Command {
  /** The client's command, affiliated arguments removed (views into the received bytes). */
  argv: Buffer[];
  serverId: number;
  execTime: number;
  /** Producer position before this command was logged. */
  start: BinlogPosition;
  sendToHub: boolean;
  /** The whole received command, as bytes (including the affiliated arguments). */
  raw: Buffer;
}

export type V2Message = { kind: 'auth'; sid: number } | { kind: 'command'; command: V2Command };

function fail(message: string): never {
  throw new PikaProtocolError(`legacy 2.x binlog stream: ${message}`, { code: 'PIKA_LEGACY_V2' });
}

/** Splits the four affiliated arguments off one parsed command; throws if they are missing or malformed. */
export function stripAffiliatedInfo(args: Buffer[]): Omit<V2Command, 'raw'> {
  const n = args.length;
  const name = args[0]?.toString('latin1').slice(0, 32) ?? '';
  if (n < 5 || !args[n - 4]!.equals(MAGIC)) {
    fail(`command "${name}" does not end with the ${PIKA_BINLOG_MAGIC} affiliated arguments (a pre-2.x master?)`);
  }
  const serverIdText = args[n - 3]!.toString('latin1');
  if (!/^[0-9]{1,10}$/.test(serverIdText)) fail(`command "${name}": server_id ${JSON.stringify(serverIdText.slice(0, 32))} is not a number`);
  const info = args[n - 2]!;
  if (info.length !== BINLOG_INFO_LENGTH) fail(`command "${name}": binlog_info has ${info.length} bytes, expected ${BINLOG_INFO_LENGTH}`);
  const hub = args[n - 1]!.toString('latin1');
  if (hub !== '0' && hub !== '1') fail(`command "${name}": send_to_hub is ${JSON.stringify(hub.slice(0, 32))}, expected "0" or "1"`);
  const high = info.readUInt32LE(12);
  if (high > 0x1fffff) fail(`command "${name}": binlog offset is larger than 2^53-1`);
  return {
    argv: args.slice(0, n - 4),
    serverId: Number(serverIdText),
    execTime: info.readUInt32LE(0),
    start: { filenum: info.readUInt32LE(4), offset: high * 0x100000000 + info.readUInt32LE(8) },
    sendToHub: hub === '1',
  };
}

/** Length of the complete RESP array at the start of `buf`, or -1 if more bytes are needed. */
function commandLength(buf: Buffer, at: number, max: number): number {
  const line = (pos: number, what: string): [number, number] | null => {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) {
      if (buf.length - pos > 20) fail(`${what} at stream byte ${at + pos} is not terminated by CRLF`);
      return null;
    }
    const text = buf.subarray(pos, eol).toString('latin1');
    if (!/^[0-9]{1,15}$/.test(text)) fail(`${what} at stream byte ${at + pos} is ${JSON.stringify(text.slice(0, 20))}, expected digits`);
    return [Number(text), eol + 2];
  };
  if (buf.length === 0) return -1;
  if (buf[0] !== 0x2a) fail(`expected '*' (a RESP array) at stream byte ${at}, found 0x${buf[0]!.toString(16).padStart(2, '0')}`);
  const head = line(1, 'array length');
  if (!head) return -1;
  let [count, pos] = head;
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) return -1;
    if (buf[pos] !== 0x24) fail(`expected '$' (bulk string) at stream byte ${at + pos}`);
    const bulk = line(pos + 1, 'bulk length');
    if (!bulk) return -1;
    pos = bulk[1] + bulk[0] + 2;
    if (pos > max) fail(`command at stream byte ${at} is longer than ${max} bytes`);
    if (pos > buf.length) return -1;
  }
  return pos;
}

/** Streaming decoder for the 2.x sender's bytes: `auth <sid>` first, then commands with affiliated info. */
export class V2StreamDecoder {
  private buf = Buffer.alloc(0);
  private consumed = 0;
  private authSeen = false;

  constructor(private readonly maxCommand = DEFAULT_MAX_V2_COMMAND) {}

  push(chunk: Uint8Array): V2Message[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: V2Message[] = [];
    for (;;) {
      const length = commandLength(this.buf, this.consumed, this.maxCommand);
      if (length < 0) break;
      const raw = this.buf.subarray(0, length);
      let args: Buffer[];
      try {
        args = parseRespCommand(raw);
      } catch (err) {
        fail(`command at stream byte ${this.consumed}: ${(err as Error).message}`);
      }
      if (!this.authSeen) {
        out.push({ kind: 'auth', sid: decodeLegacyAuthBody(raw) });
        this.authSeen = true;
      } else {
        out.push({ kind: 'command', command: { ...stripAffiliatedInfo(args), raw } });
      }
      this.buf = this.buf.subarray(length);
      this.consumed += length;
    }
    return out;
  }

  /** Call when the connection ends: throws if it ended inside a command. */
  end(): void {
    if (this.buf.length > 0) fail(`connection ended inside a command (${this.buf.length} bytes of it received)`);
  }
}
