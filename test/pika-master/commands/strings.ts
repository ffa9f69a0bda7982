// String commands and their binlog forms (src/pika_kv.cc @v4.0.1; 3.5.5 differences via profile).

import { bytesToKey as k } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import {
  b, CommandError, formatFloatValue, parseFloatArg, parseInteger, readOnly, str, written,
  type CommandContext, type CommandSpec,
} from './common.ts';

const nowSeconds = (ctx: CommandContext): number => Math.floor(ctx.nowMs() / 1000);

function getString(ctx: CommandContext, key: Buffer): Buffer | undefined {
  return ctx.ks.getTyped(k(key), 'string')?.value;
}

/** Replaces the value of `key`, keeping its TTL (what Pika's Incrby/Append/Setrange do). */
function replaceKeepingTtl(ctx: CommandContext, key: Buffer, value: Buffer): number | undefined {
  const entry = ctx.ks.get(k(key));
  const expireAtMs = entry?.expireAtMs;
  ctx.ks.put(k(key), { type: 'string', value }, expireAtMs);
  return expireAtMs;
}

/** `pksetexat key <ts> value` as IncrCmd/AppendCmd::ToRedisProtocol write it: ts = expiry seconds or 0. */
function pksetexatKeepTtl(key: Buffer, expireAtMs: number | undefined, value: Buffer): Buffer[] {
  const ts = expireAtMs !== undefined && expireAtMs > 0 ? Math.floor(expireAtMs / 1000) : 0;
  return [b('pksetexat'), key, b(String(ts)), value];
}

function set(ctx: CommandContext, argv: Buffer[]) {
  const [, key, value] = argv as [Buffer, Buffer, Buffer];
  let condition: 'none' | 'nx' | 'xx' | 'expx' = 'none';
  let ttlMs: bigint | undefined;
  for (let i = 3; i < argv.length; i++) {
    const opt = str(argv[i]!).toLowerCase();
    if (opt === 'nx' || opt === 'xx') condition = opt;
    else if (opt === 'ex' || opt === 'px') {
      if (condition === 'none') condition = 'expx';
      const arg = argv[++i];
      if (!arg) throw new CommandError('ERR syntax error');
      ttlMs = parseInteger(arg) * (opt === 'ex' ? 1000n : 1n);
    } else throw new CommandError('ERR syntax error');
  }
  if (ttlMs !== undefined && ttlMs <= 0n) throw new CommandError('ERR invalid expire time in set');
  const exists = ctx.ks.get(k(key)) !== undefined;
  const apply = condition === 'nx' ? !exists : condition === 'xx' ? exists : true;
  if (apply) {
    ctx.ks.put(k(key), { type: 'string', value }, ttlMs === undefined ? undefined : ctx.nowMs() + Number(ttlMs));
  }
  const replyBytes = apply ? reply.ok() : reply.nil();
  if (condition === 'expx') {
    // SetCmd::ToRedisProtocol: time(nullptr) + ttl_millsec / 1000 (sub-second precision lost).
    const at = nowSeconds(ctx) + Number(ttlMs! / 1000n);
    return written(replyBytes, [b('pksetexat'), key, b(String(at)), value]);
  }
  return written(replyBytes, argv);
}

function setnx(ctx: CommandContext, argv: Buffer[]) {
  const [, key, value] = argv as [Buffer, Buffer, Buffer];
  const exists = ctx.ks.get(k(key)) !== undefined;
  if (!exists) ctx.ks.put(k(key), { type: 'string', value });
  // SetnxCmd::ToRedisProtocol writes `setnx` even when nothing was set.
  return written(reply.int(exists ? 0 : 1), [b('setnx'), key, value]);
}

function setex(ctx: CommandContext, argv: Buffer[]) {
  const [, key, secondsArg, value] = argv as [Buffer, Buffer, Buffer, Buffer];
  const seconds = parseInteger(secondsArg);
  if (seconds <= 0n) throw new CommandError('ERR invalid expire time in setex');
  ctx.ks.put(k(key), { type: 'string', value }, ctx.nowMs() + Number(seconds) * 1000);
  const at = nowSeconds(ctx) + Number(seconds);
  return written(reply.ok(), [b('pksetexat'), key, b(String(at)), value]);
}

function psetex(ctx: CommandContext, argv: Buffer[]) {
  const [, key, msArg, value] = argv as [Buffer, Buffer, Buffer, Buffer];
  const ms = parseInteger(msArg);
  if (ms <= 0n) throw new CommandError('ERR invalid expire time in psetex');
  const now = ctx.nowMs();
  ctx.ks.put(k(key), { type: 'string', value }, now + Number(ms));
  // 4.0.1 bug (PsetexCmd::ToRedisProtocol): NowMillis() + ms written where seconds belong. 3.5.5: seconds.
  const at = ctx.profile === '4.0' ? now + Number(ms) : nowSeconds(ctx) + Number(ms / 1000n);
  return written(reply.ok(), [b('pksetexat'), key, b(String(at)), value]);
}

function incrBy(ctx: CommandContext, key: Buffer, delta: bigint, rewrite: boolean, argv: Buffer[]) {
  const current = getString(ctx, key);
  let base = 0n;
  if (current !== undefined) {
    const text = str(current);
    if (!/^-?\d+$/.test(text)) throw new CommandError('ERR value is not an integer or out of range');
    base = BigInt(text);
  }
  const next = base + delta;
  if (next > 9223372036854775807n || next < -9223372036854775808n) {
    throw new CommandError('ERR increment or decrement would overflow');
  }
  const value = b(next.toString());
  const expireAtMs = replaceKeepingTtl(ctx, key, value);
  return written(reply.int(next), rewrite ? pksetexatKeepTtl(key, expireAtMs, value) : argv);
}

function incrbyfloat(ctx: CommandContext, argv: Buffer[]) {
  const [, key, deltaArg] = argv as [Buffer, Buffer, Buffer];
  const delta = parseFloatArg(deltaArg);
  const current = getString(ctx, key);
  const base = current === undefined ? 0 : Number(str(current));
  if (current !== undefined && (str(current).trim() === '' || Number.isNaN(base))) {
    throw new CommandError('ERR value is not a valid float');
  }
  const next = base + delta;
  if (!Number.isFinite(next)) throw new CommandError('ERR increment would produce NaN or Infinity');
  const value = b(formatFloatValue(next));
  const expireAtMs = replaceKeepingTtl(ctx, key, value);
  return written(reply.bulk(value), pksetexatKeepTtl(key, expireAtMs, value));
}

function append(ctx: CommandContext, argv: Buffer[]) {
  const [, key, suffix] = argv as [Buffer, Buffer, Buffer];
  const value = Buffer.concat([getString(ctx, key) ?? Buffer.alloc(0), suffix]);
  const expireAtMs = replaceKeepingTtl(ctx, key, value);
  return written(reply.int(value.length), pksetexatKeepTtl(key, expireAtMs, value));
}

function getset(ctx: CommandContext, argv: Buffer[]) {
  const [, key, value] = argv as [Buffer, Buffer, Buffer];
  const old = getString(ctx, key);
  ctx.ks.put(k(key), { type: 'string', value });
  return written(reply.bulk(old ?? null), argv);
}

function setrange(ctx: CommandContext, argv: Buffer[]) {
  const [, key, offsetArg, patch] = argv as [Buffer, Buffer, Buffer, Buffer];
  const offset = Number(parseInteger(offsetArg));
  if (offset < 0) throw new CommandError('ERR offset is out of range');
  const old = getString(ctx, key) ?? Buffer.alloc(0);
  const value = Buffer.alloc(Math.max(old.length, offset + patch.length));
  old.copy(value);
  patch.copy(value, offset);
  replaceKeepingTtl(ctx, key, value);
  return written(reply.int(value.length), argv);
}

function mset(ctx: CommandContext, argv: Buffer[]) {
  if (argv.length % 2 === 0) throw new CommandError("ERR wrong number of arguments for 'mset' command");
  const binlog: Buffer[][] = [];
  for (let i = 1; i < argv.length; i += 2) {
    ctx.ks.put(k(argv[i]!), { type: 'string', value: argv[i + 1]! });
    binlog.push([b('set'), argv[i]!, argv[i + 1]!]); // MsetCmd::DoBinlog: one lowercase `set` per pair
  }
  return { reply: reply.ok(), binlog };
}

function msetnx(ctx: CommandContext, argv: Buffer[]) {
  if (argv.length % 2 === 0) throw new CommandError("ERR wrong number of arguments for 'msetnx' command");
  for (let i = 1; i < argv.length; i += 2) {
    if (ctx.ks.get(k(argv[i]!)) !== undefined) return readOnly(reply.int(0)); // no binlog when nothing was set
  }
  return { ...mset(ctx, argv), reply: reply.int(1) };
}

function get(ctx: CommandContext, argv: Buffer[]) {
  return readOnly(reply.bulk(getString(ctx, argv[1]!) ?? null));
}

function mget(ctx: CommandContext, argv: Buffer[]) {
  return readOnly(reply.array(argv.slice(1).map((key) => {
    const entry = ctx.ks.get(k(key));
    return reply.bulk(entry?.value.type === 'string' ? entry.value.value : null);
  })));
}

function strlen(ctx: CommandContext, argv: Buffer[]) {
  return readOnly(reply.int(getString(ctx, argv[1]!)?.length ?? 0));
}

export const stringCommands: Record<string, CommandSpec> = {
  set: { arity: -3, write: true, handler: set },
  setnx: { arity: 3, write: true, handler: setnx },
  setex: { arity: 4, write: true, handler: setex },
  psetex: { arity: 4, write: true, handler: psetex },
  incr: { arity: 2, write: true, handler: (ctx, argv) => incrBy(ctx, argv[1]!, 1n, true, argv) },
  incrby: { arity: 3, write: true, handler: (ctx, argv) => incrBy(ctx, argv[1]!, parseInteger(argv[2]!), true, argv) },
  decr: { arity: 2, write: true, handler: (ctx, argv) => incrBy(ctx, argv[1]!, -1n, false, argv) },
  decrby: { arity: 3, write: true, handler: (ctx, argv) => incrBy(ctx, argv[1]!, -parseInteger(argv[2]!), false, argv) },
  incrbyfloat: { arity: 3, write: true, handler: incrbyfloat },
  append: { arity: 3, write: true, handler: append },
  getset: { arity: 3, write: true, handler: getset },
  setrange: { arity: 4, write: true, handler: setrange },
  mset: { arity: -3, write: true, handler: mset },
  msetnx: { arity: -3, write: true, handler: msetnx },
  get: { arity: 2, write: false, handler: get },
  mget: { arity: -2, write: false, handler: mget },
  strlen: { arity: 2, write: false, handler: strlen },
};
