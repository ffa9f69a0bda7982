// Set commands (src/pika_set.cc @v4.0.1). SPOP → `srem`, SMOVE → `srem`+`sadd`,
// S{UNION,INTER,DIFF}STORE → `del dst` + `sadd dst …` (split every 128 KiB of members).

import { bytesToKey as k, compareKeys, keyToBytes } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import { b, parseSafeInt, readOnly, written, type CommandContext, type CommandSpec } from './common.ts';

const sortedMembers = (members: Iterable<string>): string[] => [...members].sort(compareKeys);

function sadd(ctx: CommandContext, argv: Buffer[]) {
  const set = ctx.ks.getOrCreate(k(argv[1]!), 'set');
  let added = 0;
  for (const m of argv.slice(2)) if (!set.members.has(k(m))) { set.members.add(k(m)); added++; }
  return written(reply.int(added), argv);
}

function srem(ctx: CommandContext, argv: Buffer[]) {
  const set = ctx.ks.getTyped(k(argv[1]!), 'set');
  let removed = 0;
  for (const m of argv.slice(2)) if (set?.members.delete(k(m))) removed++;
  ctx.ks.dropIfEmpty(k(argv[1]!));
  return written(reply.int(removed), argv);
}

function spop(ctx: CommandContext, argv: Buffer[]) {
  const set = ctx.ks.getTyped(k(argv[1]!), 'set');
  const count = argv[2] ? parseSafeInt(argv[2]) : 1;
  // Pika pops random members; the fixture pops the smallest ones so runs are reproducible.
  const popped = set ? sortedMembers(set.members).slice(0, count) : [];
  for (const m of popped) set!.members.delete(m);
  ctx.ks.dropIfEmpty(k(argv[1]!));
  const poppedBytes = popped.map(keyToBytes);
  const replyBytes = argv[2] ? reply.bulkArray(poppedBytes) : reply.bulk(poppedBytes[0] ?? null);
  if (poppedBytes.length === 0) return readOnly(replyBytes);
  return written(replyBytes, [b('srem'), argv[1]!, ...poppedBytes]);
}

function smove(ctx: CommandContext, argv: Buffer[]) {
  const [, src, dst, member] = argv as [Buffer, Buffer, Buffer, Buffer];
  const source = ctx.ks.getTyped(k(src), 'set');
  ctx.ks.getTyped(k(dst), 'set'); // type check before changing anything
  if (!source?.members.has(k(member))) return readOnly(reply.int(0));
  source.members.delete(k(member));
  ctx.ks.dropIfEmpty(k(src));
  ctx.ks.getOrCreate(k(dst), 'set').members.add(k(member));
  return written(reply.int(1), [b('srem'), src, member], [b('sadd'), dst, member]);
}

/**
 * Member order of Storage::SUnion & co. 4.0.1 collects members (each source's SMembers, byte order)
 * into a std::unordered_set and emits its iteration order; for small sets libstdc++ yields the
 * reverse insertion order (each new node goes to the list head) — exact for the vectors, an
 * approximation when hash buckets collide. 3.5.5 keeps insertion order.
 */
function storeOrder(ctx: CommandContext, insertionOrder: string[]): string[] {
  return ctx.profile === '4.0' ? [...insertionOrder].reverse() : insertionOrder;
}

function setStore(ctx: CommandContext, argv: Buffer[], op: 'union' | 'inter' | 'diff') {
  const [, dst, ...sources] = argv as [Buffer, Buffer, ...Buffer[]];
  const sets = sources.map((key) => sortedMembers(ctx.ks.getTyped(k(key), 'set')?.members ?? []));
  let members: string[];
  if (op === 'union') members = [...new Set(sets.flat())];
  else if (op === 'inter') members = sets[0]!.filter((m) => sets.every((s) => s.includes(m)));
  else members = sets[0]!.filter((m) => sets.slice(1).every((s) => !s.includes(m)));
  const ordered = storeOrder(ctx, members);
  ctx.ks.delete(k(dst));
  if (ordered.length > 0) ctx.ks.put(k(dst), { type: 'set', members: new Set(ordered) });
  const binlog: Buffer[][] = [[b('del'), dst]];
  let batch: Buffer[] = [];
  let size = 0;
  for (const m of ordered) {
    if (batch.length > 0 && size >= 131072) { binlog.push([b('sadd'), dst, ...batch]); batch = []; size = 0; }
    batch.push(keyToBytes(m));
    size += m.length;
  }
  if (batch.length > 0) binlog.push([b('sadd'), dst, ...batch]);
  return { reply: reply.int(ordered.length), binlog };
}

export const setCommands: Record<string, CommandSpec> = {
  sadd: { arity: -3, write: true, handler: sadd },
  srem: { arity: -3, write: true, handler: srem },
  spop: { arity: -2, write: true, handler: spop },
  smove: { arity: 4, write: true, handler: smove },
  sunionstore: { arity: -3, write: true, handler: (ctx, argv) => setStore(ctx, argv, 'union') },
  sinterstore: { arity: -3, write: true, handler: (ctx, argv) => setStore(ctx, argv, 'inter') },
  sdiffstore: { arity: -3, write: true, handler: (ctx, argv) => setStore(ctx, argv, 'diff') },
  smembers: { arity: 2, write: false, handler: (ctx, argv) => readOnly(reply.bulkArray(sortedMembers(ctx.ks.getTyped(k(argv[1]!), 'set')?.members ?? []).map(keyToBytes))) },
  scard: { arity: 2, write: false, handler: (ctx, argv) => readOnly(reply.int(ctx.ks.getTyped(k(argv[1]!), 'set')?.members.size ?? 0)) },
};
