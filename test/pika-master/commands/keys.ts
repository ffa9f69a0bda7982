// Generic key commands (src/pika_kv.cc, pika_admin.cc @v4.0.1).

import { bytesToKey as k, keyToBytes } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import { b, parseInteger, readOnly, str, written, type CommandContext, type CommandSpec } from './common.ts';

function del(ctx: CommandContext, argv: Buffer[]) {
  let removed = 0;
  const binlog: Buffer[][] = [];
  for (const key of argv.slice(1)) {
    if (ctx.ks.delete(k(key))) removed++;
    binlog.push([argv[0]!, key]); // DelCmd::DoBinlog: one item per key, missing ones too, argv[0] as sent
  }
  return { reply: reply.int(removed), binlog };
}

/** Sets an absolute expiry; a time in the past deletes the key. Returns 1 if the key existed. */
function expireAt(ctx: CommandContext, key: Buffer, atMs: number): number {
  const entry = ctx.ks.get(k(key));
  if (!entry) return 0;
  if (atMs <= ctx.nowMs()) ctx.ks.delete(k(key));
  else entry.expireAtMs = atMs;
  return 1;
}

function expire(ctx: CommandContext, argv: Buffer[]) {
  const seconds = Number(parseInteger(argv[2]!));
  const n = expireAt(ctx, argv[1]!, ctx.nowMs() + seconds * 1000);
  const at = Math.floor(ctx.nowMs() / 1000) + seconds; // ExpireCmd::ToRedisProtocol: time(nullptr) + sec
  return written(reply.int(n), [b('expireat'), argv[1]!, b(String(at))]);
}

function pexpire(ctx: CommandContext, argv: Buffer[]) {
  const ms = Number(parseInteger(argv[2]!));
  const n = expireAt(ctx, argv[1]!, ctx.nowMs() + ms);
  if (ctx.profile === '3.5') {
    // 3.5.5 PexpireCmd::ToRedisProtocol: `expireat key <time(nullptr) + ms/1000>`.
    const at = Math.floor(ctx.nowMs() / 1000) + Math.trunc(ms / 1000);
    return written(reply.int(n), [b('expireat'), argv[1]!, b(String(at))]);
  }
  return written(reply.int(n), [b('pexpireat'), argv[1]!, b(String(ctx.nowMs() + ms))]);
}

function expireatCmd(ctx: CommandContext, argv: Buffer[]) {
  const n = expireAt(ctx, argv[1]!, Number(parseInteger(argv[2]!)) * 1000);
  return written(reply.int(n), argv);
}

function pexpireatCmd(ctx: CommandContext, argv: Buffer[]) {
  const n = expireAt(ctx, argv[1]!, Number(parseInteger(argv[2]!)));
  return written(reply.int(n), argv);
}

function persist(ctx: CommandContext, argv: Buffer[]) {
  const entry = ctx.ks.get(k(argv[1]!));
  const had = entry?.expireAtMs !== undefined;
  if (entry) delete entry.expireAtMs;
  return written(reply.int(had ? 1 : 0), argv);
}

function ttl(ctx: CommandContext, argv: Buffer[], unitMs: number) {
  const entry = ctx.ks.get(k(argv[1]!));
  if (!entry) return readOnly(reply.int(-2));
  if (entry.expireAtMs === undefined) return readOnly(reply.int(-1));
  return readOnly(reply.int(Math.ceil((entry.expireAtMs - ctx.nowMs()) / unitMs)));
}

function exists(ctx: CommandContext, argv: Buffer[]) {
  return readOnly(reply.int(argv.slice(1).filter((key) => ctx.ks.get(k(key)) !== undefined).length));
}

function type(ctx: CommandContext, argv: Buffer[]) {
  return readOnly(reply.simple(ctx.ks.get(k(argv[1]!))?.value.type ?? 'none'));
}

function keys(ctx: CommandContext, argv: Buffer[]) {
  const pattern = str(argv[1]!);
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return readOnly(reply.array(ctx.ks.keys().filter((key) => regex.test(key)).map((key) => reply.bulk(keyToBytes(key)))));
}

function flushdb(ctx: CommandContext, argv: Buffer[]) {
  ctx.ks.flush();
  return written(reply.ok(), argv);
}

export const keyCommands: Record<string, CommandSpec> = {
  del: { arity: -2, write: true, handler: del },
  expire: { arity: 3, write: true, handler: expire },
  pexpire: { arity: 3, write: true, handler: pexpire },
  expireat: { arity: 3, write: true, handler: expireatCmd },
  pexpireat: { arity: 3, write: true, handler: pexpireatCmd },
  persist: { arity: 2, write: true, handler: persist },
  flushdb: { arity: 1, write: true, handler: flushdb },
  ttl: { arity: 2, write: false, handler: (ctx, argv) => ttl(ctx, argv, 1000) },
  pttl: { arity: 2, write: false, handler: (ctx, argv) => ttl(ctx, argv, 1) },
  exists: { arity: -2, write: false, handler: exists },
  type: { arity: 2, write: false, handler: type },
  keys: { arity: 2, write: false, handler: keys },
  dbsize: { arity: 1, write: false, handler: (ctx) => readOnly(reply.int(ctx.ks.keys().length)) },
};
