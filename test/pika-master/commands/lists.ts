// List commands (src/pika_list.cc @v4.0.1): verbatim, except RPOPLPUSH → `RPOP src` + `LPUSH dst v`.

import { bytesToKey as k } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import { b, CommandError, parseSafeInt, readOnly, str, written, type CommandContext, type CommandSpec } from './common.ts';

function push(ctx: CommandContext, argv: Buffer[], left: boolean, onlyIfExists: boolean) {
  if (onlyIfExists && !ctx.ks.getTyped(k(argv[1]!), 'list')) return written(reply.int(0), argv);
  const list = ctx.ks.getOrCreate(k(argv[1]!), 'list');
  for (const v of argv.slice(2)) left ? list.items.unshift(v) : list.items.push(v);
  return written(reply.int(list.items.length), argv);
}

function pop(ctx: CommandContext, argv: Buffer[], left: boolean) {
  const list = ctx.ks.getTyped(k(argv[1]!), 'list');
  const value = list ? (left ? list.items.shift() : list.items.pop()) : undefined;
  ctx.ks.dropIfEmpty(k(argv[1]!));
  return written(reply.bulk(value ?? null), argv);
}

const normalizeIndex = (index: number, length: number): number => (index < 0 ? length + index : index);

function linsert(ctx: CommandContext, argv: Buffer[]) {
  const where = str(argv[2]!).toLowerCase();
  if (where !== 'before' && where !== 'after') throw new CommandError('ERR syntax error');
  const list = ctx.ks.getTyped(k(argv[1]!), 'list');
  if (!list) return written(reply.int(0), argv);
  const at = list.items.findIndex((item) => item.equals(argv[3]!));
  if (at < 0) return written(reply.int(-1), argv);
  list.items.splice(where === 'before' ? at : at + 1, 0, argv[4]!);
  return written(reply.int(list.items.length), argv);
}

function lset(ctx: CommandContext, argv: Buffer[]) {
  const list = ctx.ks.getTyped(k(argv[1]!), 'list');
  if (!list) throw new CommandError('ERR no such key');
  const index = normalizeIndex(parseSafeInt(argv[2]!), list.items.length);
  if (index < 0 || index >= list.items.length) throw new CommandError('ERR index out of range');
  list.items[index] = argv[3]!;
  return written(reply.ok(), argv);
}

function lrem(ctx: CommandContext, argv: Buffer[]) {
  const count = parseSafeInt(argv[2]!);
  const list = ctx.ks.getTyped(k(argv[1]!), 'list');
  if (!list) return written(reply.int(0), argv);
  let removed = 0;
  const limit = count === 0 ? Infinity : Math.abs(count);
  const indices = list.items.map((_, i) => i);
  if (count < 0) indices.reverse();
  const drop = new Set<number>();
  for (const i of indices) {
    if (removed >= limit) break;
    if (list.items[i]!.equals(argv[3]!)) { drop.add(i); removed++; }
  }
  list.items = list.items.filter((_, i) => !drop.has(i));
  ctx.ks.dropIfEmpty(k(argv[1]!));
  return written(reply.int(removed), argv);
}

function ltrim(ctx: CommandContext, argv: Buffer[]) {
  const list = ctx.ks.getTyped(k(argv[1]!), 'list');
  if (list) {
    const len = list.items.length;
    const start = Math.max(0, normalizeIndex(parseSafeInt(argv[2]!), len));
    const stop = Math.min(len - 1, normalizeIndex(parseSafeInt(argv[3]!), len));
    list.items = start > stop ? [] : list.items.slice(start, stop + 1);
    ctx.ks.dropIfEmpty(k(argv[1]!));
  }
  return written(reply.ok(), argv);
}

function rpoplpush(ctx: CommandContext, argv: Buffer[]) {
  const [, src, dst] = argv as [Buffer, Buffer, Buffer];
  const source = ctx.ks.getTyped(k(src), 'list');
  if (!source || source.items.length === 0) return readOnly(reply.nil());
  const target = ctx.ks.getOrCreate(k(dst), 'list');
  const value = source.items.pop()!;
  target.items.unshift(value);
  ctx.ks.dropIfEmpty(k(src));
  return written(reply.bulk(value), [b('RPOP'), src], [b('LPUSH'), dst, value]);
}

function lrange(ctx: CommandContext, argv: Buffer[]) {
  const items = ctx.ks.getTyped(k(argv[1]!), 'list')?.items ?? [];
  const start = Math.max(0, normalizeIndex(parseSafeInt(argv[2]!), items.length));
  const stop = Math.min(items.length - 1, normalizeIndex(parseSafeInt(argv[3]!), items.length));
  return readOnly(reply.bulkArray(start > stop ? [] : items.slice(start, stop + 1)));
}

export const listCommands: Record<string, CommandSpec> = {
  lpush: { arity: -3, write: true, handler: (ctx, argv) => push(ctx, argv, true, false) },
  rpush: { arity: -3, write: true, handler: (ctx, argv) => push(ctx, argv, false, false) },
  lpushx: { arity: -3, write: true, handler: (ctx, argv) => push(ctx, argv, true, true) },
  rpushx: { arity: -3, write: true, handler: (ctx, argv) => push(ctx, argv, false, true) },
  lpop: { arity: 2, write: true, handler: (ctx, argv) => pop(ctx, argv, true) },
  rpop: { arity: 2, write: true, handler: (ctx, argv) => pop(ctx, argv, false) },
  linsert: { arity: 5, write: true, handler: linsert },
  lset: { arity: 4, write: true, handler: lset },
  lrem: { arity: 4, write: true, handler: lrem },
  ltrim: { arity: 4, write: true, handler: ltrim },
  rpoplpush: { arity: 3, write: true, handler: rpoplpush },
  lrange: { arity: 4, write: false, handler: lrange },
  llen: { arity: 2, write: false, handler: (ctx, argv) => readOnly(reply.int(ctx.ks.getTyped(k(argv[1]!), 'list')?.items.length ?? 0)) },
};
