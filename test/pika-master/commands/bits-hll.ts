// Bitmap and HyperLogLog commands (src/pika_bit.cc, pika_hyperloglog.cc,
// src/storage/src/redis_hyperloglog.cc @v4.0.1). BITOP and PFMERGE are binlogged as
// `set dest <result bytes>`; PFMERGE's bytes are Pika's own 2^17 one-byte registers.

import { bytesToKey as k } from '../data/keyspace.ts';
import { reply } from '../resp/resp-codec.ts';
import { b, CommandError, parseSafeInt, readOnly, str, written, type CommandContext, type CommandSpec } from './common.ts';

function setbit(ctx: CommandContext, argv: Buffer[]) {
  const offset = parseSafeInt(argv[2]!);
  const bit = str(argv[3]!);
  if (offset < 0 || offset >= 2 ** 32) throw new CommandError('ERR bit offset is not an integer or out of range');
  if (bit !== '0' && bit !== '1') throw new CommandError('ERR bit is not an integer or out of range');
  const entry = ctx.ks.get(k(argv[1]!));
  if (entry && entry.value.type !== 'string') ctx.ks.getTyped(k(argv[1]!), 'string');
  const old = entry?.value.type === 'string' ? entry.value.value : Buffer.alloc(0);
  const byteIndex = offset >> 3;
  const value = Buffer.alloc(Math.max(old.length, byteIndex + 1));
  old.copy(value);
  const mask = 1 << (7 - (offset & 7));
  const previous = (value[byteIndex]! & mask) !== 0 ? 1 : 0;
  value[byteIndex] = bit === '1' ? value[byteIndex]! | mask : value[byteIndex]! & ~mask;
  ctx.ks.put(k(argv[1]!), { type: 'string', value }, entry?.expireAtMs);
  return written(reply.int(previous), argv);
}

function bitop(ctx: CommandContext, argv: Buffer[]) {
  const op = str(argv[1]!).toLowerCase();
  const dest = argv[2]!;
  const sources = argv.slice(3).map((key) => ctx.ks.getTyped(k(key), 'string')?.value ?? Buffer.alloc(0));
  if (op === 'not' && sources.length !== 1) throw new CommandError('ERR BITOP NOT must be called with a single source key.');
  if (!['and', 'or', 'xor', 'not'].includes(op)) throw new CommandError('ERR syntax error');
  const length = Math.max(0, ...sources.map((s) => s.length));
  const result = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const bytes = sources.map((s) => s[i] ?? 0);
    if (op === 'not') result[i] = ~bytes[0]! & 0xff;
    else result[i] = bytes.reduce((acc, x) => (op === 'and' ? acc & x : op === 'or' ? acc | x : acc ^ x));
  }
  ctx.ks.put(k(dest), { type: 'string', value: result });
  return written(reply.int(length), [b('set'), dest, result]);
}

// --- Pika HyperLogLog: precision 17, MurmurHash3_x86_32 with seed 313 ---
const HLL_PRECISION = 17;
const HLL_REGISTERS = 1 << HLL_PRECISION;
const HLL_SEED = 313;

function rotl32(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

export function murmur3x86_32(data: Buffer, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h1 = seed >>> 0;
  const blocks = data.length >> 2;
  for (let i = 0; i < blocks; i++) {
    let k1 = data.readUInt32LE(i * 4);
    k1 = Math.imul(k1, c1); k1 = rotl32(k1, 15); k1 = Math.imul(k1, c2);
    h1 ^= k1; h1 = rotl32(h1, 13); h1 = (Math.imul(h1, 5) + 0xe6546b64) >>> 0;
  }
  const tail = blocks * 4;
  const rest = data.length & 3;
  if (rest > 0) {
    let k1 = 0;
    if (rest === 3) k1 ^= data[tail + 2]! << 16;
    if (rest >= 2) k1 ^= data[tail + 1]! << 8;
    k1 ^= data[tail]!;
    k1 = Math.imul(k1, c1); k1 = rotl32(k1, 15); k1 = Math.imul(k1, c2);
    h1 ^= k1;
  }
  h1 ^= data.length;
  h1 ^= h1 >>> 16; h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13; h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

function countTrailingZeros(x: number): number {
  if (x === 0) return 32;
  let n = 0;
  while ((x & 1) === 0) { x >>>= 1; n++; }
  return n;
}

/** HyperLogLog::Add: register[index] = max(register, min(15, ctz(hash >> 17)) + 1). */
export function hllAdd(registers: Buffer, member: Buffer): boolean {
  const hash = murmur3x86_32(member, HLL_SEED);
  const index = hash & (HLL_REGISTERS - 1);
  const rank = Math.min(32 - HLL_PRECISION, countTrailingZeros(hash >>> HLL_PRECISION)) + 1;
  if (rank > registers[index]!) { registers[index] = rank; return true; }
  return false;
}

function pfadd(ctx: CommandContext, argv: Buffer[]) {
  const existing = ctx.ks.getTyped(k(argv[1]!), 'string')?.value;
  const registers = Buffer.alloc(HLL_REGISTERS);
  existing?.copy(registers);
  let changed = existing === undefined;
  for (const member of argv.slice(2)) if (hllAdd(registers, member)) changed = true;
  ctx.ks.put(k(argv[1]!), { type: 'string', value: registers });
  return written(reply.int(changed ? 1 : 0), argv);
}

/** Storage::PfMerge: starts from the destination's registers; merge uses `r < o ? r | o : r` (Pika's own rule). */
function pfmerge(ctx: CommandContext, argv: Buffer[]) {
  const keys = argv.slice(1);
  const first = ctx.ks.getTyped(k(keys[0]!), 'string')?.value;
  const registers = Buffer.alloc(HLL_REGISTERS);
  first?.copy(registers);
  let result = first ?? Buffer.alloc(0);
  for (const key of keys.slice(1)) {
    const other = ctx.ks.getTyped(k(key), 'string')?.value;
    if (!other) continue;
    for (let r = 0; r < HLL_REGISTERS; r++) {
      const mine = registers[r]!;
      const theirs = other[r] ?? 0;
      if (mine < theirs) registers[r] = mine | theirs;
    }
    result = Buffer.from(registers);
  }
  ctx.ks.put(k(keys[0]!), { type: 'string', value: result });
  return written(reply.ok(), [b('set'), keys[0]!, result]);
}

function pfcount(ctx: CommandContext, argv: Buffer[]) {
  const registers = ctx.ks.getTyped(k(argv[1]!), 'string')?.value;
  if (!registers) return readOnly(reply.int(0));
  const m = HLL_REGISTERS;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) { sum += 1 / 2 ** (registers[i] ?? 0); if ((registers[i] ?? 0) === 0) zeros++; }
  let estimate = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
  if (estimate <= 2.5 * m && zeros !== 0) estimate = m * Math.log(m / zeros);
  return readOnly(reply.int(Math.round(estimate)));
}

export const bitHllCommands: Record<string, CommandSpec> = {
  setbit: { arity: 4, write: true, handler: setbit },
  bitop: { arity: -4, write: true, handler: bitop },
  pfadd: { arity: -2, write: true, handler: pfadd },
  pfmerge: { arity: -2, write: true, handler: pfmerge },
  pfcount: { arity: 2, write: false, handler: pfcount },
  getbit: { arity: 3, write: false, handler: (ctx, argv) => {
    const value = ctx.ks.getTyped(k(argv[1]!), 'string')?.value ?? Buffer.alloc(0);
    const offset = parseSafeInt(argv[2]!);
    return readOnly(reply.int(((value[offset >> 3] ?? 0) >> (7 - (offset & 7))) & 1));
  } },
};
