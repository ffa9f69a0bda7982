/**
 * A tiny model of Redis semantics for the commands the vector scripts use (`phase1_pre_sync.redis`), to compute
 * the state a script leaves behind. Values are latin1 strings (one char per byte). Relative TTLs are kept as
 * offsets from the unknown script time; absolute ones as unix milliseconds. Stream ids from `*` are 'auto'.
 */
export type Ttl = { relativeMs: number } | { absoluteMs: number } | null;
export type ModelId = { ms: bigint; seq: bigint } | 'auto';

export type ModelValue =
  | { type: 'string'; value: string; hyperloglog?: boolean }
  | { type: 'hash'; value: Map<string, string> }
  | { type: 'list'; value: string[] }
  | { type: 'set'; value: Set<string> }
  | { type: 'zset'; value: Map<string, number> }
  | { type: 'stream'; value: { id: ModelId; fields: string[] }[] };

export interface ModelEntry {
  v: ModelValue;
  ttl: Ttl;
}

export class RedisModel {
  readonly dbs = new Map<number, Map<string, ModelEntry>>();
  private db = 0;
  /** Pika 3.0 accepts SELECT but has one keyspace. */
  private readonly singleKeyspace: boolean;

  constructor(opts: { singleKeyspace?: boolean } = {}) {
    this.singleKeyspace = opts.singleKeyspace ?? false;
  }

  get current(): Map<string, ModelEntry> {
    let m = this.dbs.get(this.db);
    if (!m) this.dbs.set(this.db, (m = new Map()));
    return m;
  }

  runScript(text: string): void {
    for (const line of text.split('\n')) {
      const argv = tokenize(line);
      if (argv.length) this.exec(argv);
    }
  }

  private get<T extends ModelValue['type']>(key: string, type: T): Extract<ModelValue, { type: T }> | undefined {
    const e = this.current.get(key);
    if (!e) return undefined;
    if (e.v.type !== type) throw new Error(`WRONGTYPE ${key}`);
    return e.v as Extract<ModelValue, { type: T }>;
  }

  private getOrCreate<T extends ModelValue['type']>(key: string, type: T, init: () => Extract<ModelValue, { type: T }>) {
    const v = this.get(key, type);
    if (v) return v;
    const n = init();
    this.current.set(key, { v: n, ttl: null });
    return n;
  }

  private setString(key: string, value: string, ttl: Ttl = null, keepTtl = false): void {
    const old = this.current.get(key);
    this.current.set(key, { v: { type: 'string', value }, ttl: keepTtl && old ? old.ttl : ttl });
  }

  private dropEmpty(key: string): void {
    const e = this.current.get(key);
    if (!e) return;
    const v = e.v;
    const size = v.type === 'string' ? 1 : v.type === 'list' || v.type === 'stream' ? v.value.length : v.value.size;
    if (size === 0 && v.type !== 'stream') this.current.delete(key);
  }

  exec(argv: string[]): void {
    const [rawCmd, ...a] = argv;
    const cmd = rawCmd!.toUpperCase();
    const k = a[0]!;
    switch (cmd) {
      case 'SELECT':
        if (!this.singleKeyspace) this.db = Number(k);
        return;
      case 'SET': {
        let ttl: Ttl = null;
        let nx = false;
        for (let i = 2; i < a.length; i++) {
          const o = a[i]!.toUpperCase();
          if (o === 'EX') ttl = { relativeMs: Number(a[++i]) * 1000 };
          else if (o === 'PX') ttl = { relativeMs: Number(a[++i]) };
          else if (o === 'NX') nx = true;
          else throw new Error(`SET option ${o}`);
        }
        if (nx && this.current.has(k)) return;
        this.setString(k, a[1]!, ttl);
        return;
      }
      case 'SETEX':
        return this.setString(k, a[2]!, { relativeMs: Number(a[1]) * 1000 });
      case 'PSETEX':
        return this.setString(k, a[2]!, { relativeMs: Number(a[1]) });
      case 'SETNX':
        if (!this.current.has(k)) this.setString(k, a[1]!);
        return;
      case 'GETSET':
        return this.setString(k, a[1]!);
      case 'MSET':
        for (let i = 0; i < a.length; i += 2) this.setString(a[i]!, a[i + 1]!);
        return;
      case 'MSETNX':
        for (let i = 0; i < a.length; i += 2) if (this.current.has(a[i]!)) return;
        for (let i = 0; i < a.length; i += 2) this.setString(a[i]!, a[i + 1]!);
        return;
      case 'INCR':
      case 'DECR':
      case 'INCRBY': {
        const by = cmd === 'INCR' ? 1 : cmd === 'DECR' ? -1 : Number(a[1]);
        const cur = this.get(k, 'string');
        return this.setString(k, String(Number(cur?.value ?? '0') + by), null, true);
      }
      case 'INCRBYFLOAT': {
        const cur = this.get(k, 'string');
        return this.setString(k, String(Number(cur?.value ?? '0') + Number(a[1])), null, true);
      }
      case 'APPEND': {
        const cur = this.get(k, 'string');
        return this.setString(k, (cur?.value ?? '') + a[1]!, null, true);
      }
      case 'SETRANGE': {
        const cur = this.get(k, 'string')?.value ?? '';
        const off = Number(a[1]);
        const padded = cur.padEnd(off, '\0');
        return this.setString(k, padded.slice(0, off) + a[2]! + padded.slice(off + a[2]!.length), null, true);
      }
      case 'SETBIT': {
        const bit = Number(a[1]);
        const byte = bit >> 3;
        const cur = this.get(k, 'string')?.value ?? '';
        const bytes = Array.from(cur.padEnd(byte + 1, '\0'), (c) => c.charCodeAt(0));
        const mask = 0x80 >> (bit & 7);
        bytes[byte] = a[2] === '1' ? bytes[byte]! | mask : bytes[byte]! & ~mask;
        return this.setString(k, String.fromCharCode(...bytes), null, true);
      }
      case 'BITOP': {
        const op = k.toUpperCase();
        const srcs = a.slice(2).map((s) => this.get(s, 'string')?.value ?? '');
        const len = Math.max(...srcs.map((s) => s.length));
        let out = '';
        for (let i = 0; i < len; i++) {
          const bs = srcs.map((s) => (i < s.length ? s.charCodeAt(i) : 0));
          out += String.fromCharCode(op === 'AND' ? bs.reduce((x, y) => x & y) : bs.reduce((x, y) => x | y));
        }
        return this.setString(a[1]!, out);
      }
      case 'PFADD':
      case 'PFMERGE':
        // Pika keeps its own register array; the model only records that a HyperLogLog string exists.
        this.current.set(k, { v: { type: 'string', value: '', hyperloglog: true }, ttl: null });
        return;
      case 'DEL':
        for (const key of a) this.current.delete(key);
        return;
      case 'EXPIRE':
      case 'PEXPIRE':
      case 'EXPIREAT': {
        const e = this.current.get(k);
        if (!e) return;
        const n = Number(a[1]);
        e.ttl = cmd === 'EXPIRE' ? { relativeMs: n * 1000 } : cmd === 'PEXPIRE' ? { relativeMs: n } : { absoluteMs: n * 1000 };
        return;
      }
      case 'PERSIST': {
        const e = this.current.get(k);
        if (e) e.ttl = null;
        return;
      }
      case 'HSET':
      case 'HMSET': {
        const h = this.getOrCreate(k, 'hash', () => ({ type: 'hash', value: new Map() }));
        for (let i = 1; i < a.length; i += 2) h.value.set(a[i]!, a[i + 1]!);
        return;
      }
      case 'HDEL': {
        const h = this.get(k, 'hash');
        for (const f of a.slice(1)) h?.value.delete(f);
        return this.dropEmpty(k);
      }
      case 'HINCRBY':
      case 'HINCRBYFLOAT': {
        const h = this.getOrCreate(k, 'hash', () => ({ type: 'hash', value: new Map() }));
        h.value.set(a[1]!, String(Number(h.value.get(a[1]!) ?? '0') + Number(a[2])));
        return;
      }
      case 'LPUSH':
      case 'RPUSH': {
        const l = this.getOrCreate(k, 'list', () => ({ type: 'list', value: [] }));
        for (const x of a.slice(1)) cmd === 'LPUSH' ? l.value.unshift(x) : l.value.push(x);
        return;
      }
      case 'LPOP':
      case 'RPOP': {
        const l = this.get(k, 'list');
        if (l) cmd === 'LPOP' ? l.value.shift() : l.value.pop();
        return this.dropEmpty(k);
      }
      case 'LINSERT': {
        const l = this.get(k, 'list');
        if (!l) return;
        const i = l.value.indexOf(a[2]!);
        if (i >= 0) l.value.splice(a[1]!.toUpperCase() === 'BEFORE' ? i : i + 1, 0, a[3]!);
        return;
      }
      case 'LSET': {
        const l = this.get(k, 'list')!;
        const i = Number(a[1]);
        l.value[i < 0 ? l.value.length + i : i] = a[2]!;
        return;
      }
      case 'LREM': {
        const l = this.get(k, 'list');
        if (!l) return;
        const count = Number(a[1]);
        if (count !== 0) throw new Error('LREM with count != 0 not modelled');
        l.value = l.value.filter((x) => x !== a[2]);
        return this.dropEmpty(k);
      }
      case 'LTRIM': {
        const l = this.get(k, 'list');
        if (!l) return;
        const n = l.value.length;
        const norm = (x: number) => (x < 0 ? n + x : x);
        l.value = l.value.slice(Math.max(0, norm(Number(a[1]))), norm(Number(a[2])) + 1);
        return this.dropEmpty(k);
      }
      case 'RPOPLPUSH': {
        const l = this.get(k, 'list');
        if (!l || l.value.length === 0) return;
        const x = l.value.pop()!;
        this.dropEmpty(k);
        this.getOrCreate(a[1]!, 'list', () => ({ type: 'list', value: [] })).value.unshift(x);
        return;
      }
      case 'SADD': {
        const s = this.getOrCreate(k, 'set', () => ({ type: 'set', value: new Set() }));
        for (const m of a.slice(1)) s.value.add(m);
        return;
      }
      case 'SREM': {
        const s = this.get(k, 'set');
        for (const m of a.slice(1)) s?.value.delete(m);
        return this.dropEmpty(k);
      }
      case 'SPOP': {
        const s = this.get(k, 'set');
        if (!s) return;
        if (s.value.size !== 1) throw new Error('SPOP on a set with more than one member is random; not modelled');
        s.value.clear();
        return this.dropEmpty(k);
      }
      case 'SMOVE': {
        const s = this.get(k, 'set');
        if (!s?.value.delete(a[2]!)) return;
        this.dropEmpty(k);
        this.getOrCreate(a[1]!, 'set', () => ({ type: 'set', value: new Set() })).value.add(a[2]!);
        return;
      }
      case 'SUNIONSTORE': {
        const out = new Set<string>();
        for (const s of a.slice(1)) for (const m of this.get(s, 'set')?.value ?? []) out.add(m);
        this.current.set(k, { v: { type: 'set', value: out }, ttl: null });
        return this.dropEmpty(k);
      }
      case 'ZADD': {
        const z = this.getOrCreate(k, 'zset', () => ({ type: 'zset', value: new Map() }));
        for (let i = 1; i < a.length; i += 2) z.value.set(a[i + 1]!, Number(a[i]));
        return;
      }
      case 'ZINCRBY': {
        const z = this.getOrCreate(k, 'zset', () => ({ type: 'zset', value: new Map() }));
        z.value.set(a[2]!, (z.value.get(a[2]!) ?? 0) + Number(a[1]));
        return;
      }
      case 'ZREM': {
        const z = this.get(k, 'zset');
        for (const m of a.slice(1)) z?.value.delete(m);
        return this.dropEmpty(k);
      }
      case 'ZREMRANGEBYSCORE': {
        const z = this.get(k, 'zset');
        if (!z) return;
        for (const [m, s] of [...z.value]) if (s >= Number(a[1]) && s <= Number(a[2])) z.value.delete(m);
        return this.dropEmpty(k);
      }
      case 'ZUNIONSTORE': {
        const n = Number(a[1]);
        const srcs = a.slice(2, 2 + n);
        const rest = a.slice(2 + n);
        const weights = rest[0]?.toUpperCase() === 'WEIGHTS' ? rest.slice(1, 1 + n).map(Number) : srcs.map(() => 1);
        const out = new Map<string, number>();
        srcs.forEach((s, i) => {
          for (const [m, sc] of this.get(s, 'zset')?.value ?? []) out.set(m, (out.get(m) ?? 0) + sc * weights[i]!);
        });
        this.current.set(k, { v: { type: 'zset', value: out }, ttl: null });
        return this.dropEmpty(k);
      }
      case 'XADD': {
        const st = this.getOrCreate(k, 'stream', () => ({ type: 'stream', value: [] }));
        const idArg = a[1]!;
        let id: ModelId = 'auto';
        if (idArg !== '*') {
          const [ms, seq] = idArg.split('-');
          id = { ms: BigInt(ms!), seq: BigInt(seq ?? '0') };
        }
        st.value.push({ id, fields: a.slice(2) });
        return;
      }
      case 'XDEL': {
        const st = this.get(k, 'stream');
        if (!st) return;
        const del = new Set(a.slice(1));
        st.value = st.value.filter((e) => e.id === 'auto' || !del.has(`${e.id.ms}-${e.id.seq}`));
        return;
      }
      case 'XTRIM': {
        const st = this.get(k, 'stream');
        if (!st || a[1]!.toUpperCase() !== 'MAXLEN') throw new Error('XTRIM form not modelled');
        const max = Number(a[2]);
        if (st.value.length > max) st.value = st.value.slice(st.value.length - max);
        return;
      }
      default:
        throw new Error(`command ${cmd} is not modelled`);
    }
  }
}

/** redis-cli style tokenizer: whitespace-separated words, double quotes with \xHH, \n, \r, \t, \", \\ escapes. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let tok = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          const c = line[i + 1]!;
          if (c === 'x') {
            tok += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          tok += c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c;
          i += 2;
          continue;
        }
        tok += line[i++];
      }
      if (line[i] !== '"') throw new Error(`unterminated quote in ${line.slice(0, 80)}`);
      i++;
    } else {
      while (i < line.length && !/\s/.test(line[i]!)) tok += line[i++];
    }
    out.push(tok);
  }
  return out;
}
