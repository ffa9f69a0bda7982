// Sorted-set commands (src/pika_zset.cc @v4.0.1). Z{UNION,INTER}STORE → `del dst` + `zadd dst score
// member …` (members in byte order — a std::map — scores via d2string, split every 128 KiB).

import { bytesToKey as k, compareKeys, keyToBytes } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import {
  b, CommandError, d2string, parseFloatArg, parseSafeInt, readOnly, str, written,
  type CommandContext, type CommandSpec,
} from './common.ts';

function zadd(ctx: CommandContext, argv: Buffer[]) {
  if ((argv.length - 2) % 2 !== 0) throw new CommandError('ERR syntax error');
  const pairs: [number, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([parseFloatArg(argv[i]!), k(argv[i + 1]!)]);
  const zset = ctx.ks.getOrCreate(k(argv[1]!), 'zset');
  let added = 0;
  for (const [score, member] of pairs) { if (!zset.scores.has(member)) added++; zset.scores.set(member, score); }
  return written(reply.int(added), argv);
}

function zincrby(ctx: CommandContext, argv: Buffer[]) {
  const delta = parseFloatArg(argv[2]!);
  const zset = ctx.ks.getOrCreate(k(argv[1]!), 'zset');
  const next = (zset.scores.get(k(argv[3]!)) ?? 0) + delta;
  zset.scores.set(k(argv[3]!), next);
  return written(reply.bulk(d2string(next)), argv);
}

function zrem(ctx: CommandContext, argv: Buffer[]) {
  const zset = ctx.ks.getTyped(k(argv[1]!), 'zset');
  let removed = 0;
  for (const m of argv.slice(2)) if (zset?.scores.delete(k(m))) removed++;
  ctx.ks.dropIfEmpty(k(argv[1]!));
  return written(reply.int(removed), argv);
}

function parseBound(arg: Buffer): { value: number; exclusive: boolean } {
  const text = str(arg);
  if (text.startsWith('(')) return { value: parseFloatArg(Buffer.from(text.slice(1))), exclusive: true };
  return { value: parseFloatArg(arg), exclusive: false };
}

function zremrangebyscore(ctx: CommandContext, argv: Buffer[]) {
  const min = parseBound(argv[2]!);
  const max = parseBound(argv[3]!);
  const zset = ctx.ks.getTyped(k(argv[1]!), 'zset');
  let removed = 0;
  for (const [member, score] of [...(zset?.scores ?? [])]) {
    const aboveMin = min.exclusive ? score > min.value : score >= min.value;
    const belowMax = max.exclusive ? score < max.value : score <= max.value;
    if (aboveMin && belowMax) { zset!.scores.delete(member); removed++; }
  }
  ctx.ks.dropIfEmpty(k(argv[1]!));
  return written(reply.int(removed), argv);
}

function zstore(ctx: CommandContext, argv: Buffer[], op: 'union' | 'inter') {
  const dst = argv[1]!;
  const numKeys = parseSafeInt(argv[2]!);
  if (numKeys < 1 || argv.length < 3 + numKeys) throw new CommandError('ERR syntax error');
  const keys = argv.slice(3, 3 + numKeys);
  let weights = keys.map(() => 1);
  let aggregate: 'sum' | 'min' | 'max' = 'sum';
  for (let i = 3 + numKeys; i < argv.length; i++) {
    const opt = str(argv[i]!).toLowerCase();
    if (opt === 'weights') { weights = keys.map((_, j) => parseFloatArg(argv[i + 1 + j]!)); i += numKeys; }
    else if (opt === 'aggregate') aggregate = str(argv[++i]!).toLowerCase() as typeof aggregate;
    else throw new CommandError('ERR syntax error');
  }
  const sources = keys.map((key) => ctx.ks.getTyped(k(key), 'zset')?.scores ?? new Map<string, number>());
  const combine = (a: number, c: number): number => (aggregate === 'sum' ? a + c : aggregate === 'min' ? Math.min(a, c) : Math.max(a, c));
  const result = new Map<string, number>();
  sources.forEach((scores, i) => {
    for (const [member, score] of scores) {
      const weighted = score * weights[i]!;
      result.set(member, result.has(member) ? combine(result.get(member)!, weighted) : weighted);
    }
  });
  if (op === 'inter') for (const member of [...result.keys()]) if (!sources.every((s) => s.has(member))) result.delete(member);
  const members = [...result.keys()].sort(compareKeys);
  ctx.ks.delete(k(dst));
  if (members.length > 0) ctx.ks.put(k(dst), { type: 'zset', scores: new Map(members.map((m) => [m, result.get(m)!])) });
  const binlog: Buffer[][] = [[b('del'), dst]];
  let batch: Buffer[] = [];
  let size = 0;
  for (const m of members) {
    if (batch.length > 0 && size >= 131072) { binlog.push([b('zadd'), dst, ...batch]); batch = []; size = 0; }
    const score = d2string(result.get(m)!);
    batch.push(b(score), keyToBytes(m));
    size += score.length + m.length;
  }
  if (batch.length > 0) binlog.push([b('zadd'), dst, ...batch]);
  return { reply: reply.int(members.length), binlog };
}

export const zsetCommands: Record<string, CommandSpec> = {
  zadd: { arity: -4, write: true, handler: zadd },
  zincrby: { arity: 4, write: true, handler: zincrby },
  zrem: { arity: -3, write: true, handler: zrem },
  zremrangebyscore: { arity: 4, write: true, handler: zremrangebyscore },
  zunionstore: { arity: -4, write: true, handler: (ctx, argv) => zstore(ctx, argv, 'union') },
  zinterstore: { arity: -4, write: true, handler: (ctx, argv) => zstore(ctx, argv, 'inter') },
  zscore: { arity: 3, write: false, handler: (ctx, argv) => {
    const score = ctx.ks.getTyped(k(argv[1]!), 'zset')?.scores.get(k(argv[2]!));
    return readOnly(reply.bulk(score === undefined ? null : d2string(score)));
  } },
  zcard: { arity: 2, write: false, handler: (ctx, argv) => readOnly(reply.int(ctx.ks.getTyped(k(argv[1]!), 'zset')?.scores.size ?? 0)) },
};
