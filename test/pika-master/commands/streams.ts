// Stream commands (src/pika_stream.cc @v4.0.1): verbatim, except that XADD's `*` id is replaced by
// the generated id in the binlog (so replaying it is deterministic).

import { bytesToKey as k, type StreamId } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import { b, CommandError, parseSafeInt, readOnly, str, written, type CommandContext, type CommandSpec } from './common.ts';

const formatId = (id: StreamId): string => `${id.ms}-${id.seq}`;
const compareIds = (a: StreamId, c: StreamId): number => (a.ms !== c.ms ? (a.ms < c.ms ? -1 : 1) : a.seq < c.seq ? -1 : a.seq > c.seq ? 1 : 0);

function parseId(arg: Buffer): StreamId {
  const match = /^(\d+)(?:-(\d+))?$/.exec(str(arg));
  if (!match) throw new CommandError('ERR Invalid stream ID specified as stream command argument');
  return { ms: BigInt(match[1]!), seq: BigInt(match[2] ?? 0) };
}

function xadd(ctx: CommandContext, argv: Buffer[]) {
  let i = 2;
  let maxLen: number | undefined;
  if (str(argv[i]!).toLowerCase() === 'maxlen') {
    i++;
    if (str(argv[i]!) === '~' || str(argv[i]!) === '=') i++;
    maxLen = parseSafeInt(argv[i++]!);
  }
  const idArg = argv[i]!;
  const fields = argv.slice(i + 1);
  if (fields.length === 0 || fields.length % 2 !== 0) throw new CommandError("ERR wrong number of arguments for 'xadd' command");
  const stream = ctx.ks.getTyped(k(argv[1]!), 'stream');
  const lastId = stream?.lastId ?? { ms: 0n, seq: 0n };
  let id: StreamId;
  if (str(idArg) === '*') {
    const now = BigInt(ctx.nowMs());
    id = now > lastId.ms ? { ms: now, seq: 0n } : { ms: lastId.ms, seq: lastId.seq + 1n };
  } else {
    id = parseId(idArg);
    if (compareIds(id, lastId) <= 0) {
      throw new CommandError('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    }
  }
  const target = ctx.ks.getOrCreate(k(argv[1]!), 'stream');
  target.entries.push({ id, fields });
  target.lastId = id;
  if (maxLen !== undefined) while (target.entries.length > maxLen) target.entries.shift();
  const idBytes = b(formatId(id));
  const logged = argv.map((arg, index) => (index === i ? idBytes : arg));
  return written(reply.bulk(idBytes), logged);
}

function xdel(ctx: CommandContext, argv: Buffer[]) {
  const stream = ctx.ks.getTyped(k(argv[1]!), 'stream');
  const ids = argv.slice(2).map(parseId);
  const before = stream?.entries.length ?? 0;
  if (stream) stream.entries = stream.entries.filter((e) => !ids.some((id) => compareIds(id, e.id) === 0));
  return written(reply.int(before - (stream?.entries.length ?? 0)), argv);
}

function xtrim(ctx: CommandContext, argv: Buffer[]) {
  let i = 2;
  if (str(argv[i]!).toLowerCase() !== 'maxlen') throw new CommandError('ERR syntax error');
  i++;
  if (str(argv[i]!) === '~' || str(argv[i]!) === '=') i++;
  const maxLen = parseSafeInt(argv[i]!);
  const stream = ctx.ks.getTyped(k(argv[1]!), 'stream');
  let removed = 0;
  while (stream && stream.entries.length > maxLen) { stream.entries.shift(); removed++; }
  return written(reply.int(removed), argv);
}

export const streamCommands: Record<string, CommandSpec> = {
  xadd: { arity: -5, write: true, handler: xadd },
  xdel: { arity: -3, write: true, handler: xdel },
  xtrim: { arity: -4, write: true, handler: xtrim },
  xlen: { arity: 2, write: false, handler: (ctx, argv) => readOnly(reply.int(ctx.ks.getTyped(k(argv[1]!), 'stream')?.entries.length ?? 0)) },
};
