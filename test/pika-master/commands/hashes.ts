// Hash commands: all binlogged verbatim (src/pika_hash.cc @v4.0.1).

import { bytesToKey as k, keyToBytes } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import {
  CommandError, formatFloatValue, parseFloatArg, parseInteger, readOnly, str, written,
  type CommandContext, type CommandSpec,
} from './common.ts';

function hset(ctx: CommandContext, argv: Buffer[]) {
  // Pika 4.0.1 accepts exactly one field/value pair here (multi-pair HSET is rejected; HMSET works).
  const hash = ctx.ks.getOrCreate(k(argv[1]!), 'hash');
  const isNew = !hash.fields.has(k(argv[2]!));
  hash.fields.set(k(argv[2]!), argv[3]!);
  return written(reply.int(isNew ? 1 : 0), argv);
}

function hmset(ctx: CommandContext, argv: Buffer[]) {
  if (argv.length % 2 !== 0) throw new CommandError("ERR wrong number of arguments for 'hmset' command");
  const hash = ctx.ks.getOrCreate(k(argv[1]!), 'hash');
  for (let i = 2; i < argv.length; i += 2) hash.fields.set(k(argv[i]!), argv[i + 1]!);
  return written(reply.ok(), argv);
}

function hsetnx(ctx: CommandContext, argv: Buffer[]) {
  const hash = ctx.ks.getOrCreate(k(argv[1]!), 'hash');
  const isNew = !hash.fields.has(k(argv[2]!));
  if (isNew) hash.fields.set(k(argv[2]!), argv[3]!);
  return written(reply.int(isNew ? 1 : 0), argv);
}

function hdel(ctx: CommandContext, argv: Buffer[]) {
  const hash = ctx.ks.getTyped(k(argv[1]!), 'hash');
  let removed = 0;
  for (const field of argv.slice(2)) if (hash?.fields.delete(k(field))) removed++;
  ctx.ks.dropIfEmpty(k(argv[1]!));
  return written(reply.int(removed), argv);
}

function hincrby(ctx: CommandContext, argv: Buffer[]) {
  const delta = parseInteger(argv[3]!);
  const hash = ctx.ks.getOrCreate(k(argv[1]!), 'hash');
  const current = hash.fields.get(k(argv[2]!));
  if (current !== undefined && !/^-?\d+$/.test(str(current))) throw new CommandError('ERR hash value is not an integer');
  const next = (current === undefined ? 0n : BigInt(str(current))) + delta;
  hash.fields.set(k(argv[2]!), Buffer.from(next.toString()));
  return written(reply.int(next), argv);
}

function hincrbyfloat(ctx: CommandContext, argv: Buffer[]) {
  const delta = parseFloatArg(argv[3]!);
  const hash = ctx.ks.getOrCreate(k(argv[1]!), 'hash');
  const current = hash.fields.get(k(argv[2]!));
  const next = (current === undefined ? 0 : Number(str(current))) + delta;
  if (Number.isNaN(next)) throw new CommandError('ERR value is not a valid float');
  const value = Buffer.from(formatFloatValue(next));
  hash.fields.set(k(argv[2]!), value);
  return written(reply.bulk(value), argv);
}

function hgetall(ctx: CommandContext, argv: Buffer[]) {
  const hash = ctx.ks.getTyped(k(argv[1]!), 'hash');
  const out: Buffer[] = [];
  for (const [field, value] of [...(hash?.fields ?? [])].sort(([a], [c]) => (a < c ? -1 : 1))) {
    out.push(reply.bulk(keyToBytes(field)), reply.bulk(value));
  }
  return readOnly(reply.array(out));
}

export const hashCommands: Record<string, CommandSpec> = {
  hset: { arity: 4, write: true, handler: hset },
  hmset: { arity: -4, write: true, handler: hmset },
  hsetnx: { arity: 4, write: true, handler: hsetnx },
  hdel: { arity: -3, write: true, handler: hdel },
  hincrby: { arity: 4, write: true, handler: hincrby },
  hincrbyfloat: { arity: 4, write: true, handler: hincrbyfloat },
  hget: { arity: 3, write: false, handler: (ctx, argv) => readOnly(reply.bulk(ctx.ks.getTyped(k(argv[1]!), 'hash')?.fields.get(k(argv[2]!)) ?? null)) },
  hlen: { arity: 2, write: false, handler: (ctx, argv) => readOnly(reply.int(ctx.ks.getTyped(k(argv[1]!), 'hash')?.fields.size ?? 0)) },
  hgetall: { arity: 2, write: false, handler: hgetall },
};
