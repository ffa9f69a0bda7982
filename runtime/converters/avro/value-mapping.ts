// Generic mapping between plain JS values (what connectors put in SourceRecord.key/value, JSON-like) and the
// values avsc writes for a given Avro schema. Knows nothing about any connector.
//
// JS → Avro, per Avro type:
//   null            null or undefined
//   boolean         boolean
//   int             integer number or bigint in int32 range
//   long            safe-integer number, bigint in the safe range, or Date (→ epoch ms; for timestamp-millis)
//   float, double   number (or bigint)
//   string          string
//   bytes, fixed    Buffer / Uint8Array, or a standard base64 string (so JSON-shaped events with *_b64 text fit)
//   enum            one of the symbols
//   array           array;  map: plain object or Map with string keys
//   record          plain object keyed by field name; a missing/undefined field takes the schema default, else it
//                   is an error; keys the schema does not know are an error unless ignoreUnknownFields
//   union           null → the null branch; otherwise the first branch the value fits, trying branches of the
//                   value's own JS kind first (a string prefers string/enum over bytes)
// Avro → JS (decoding): records become plain objects, wrapped unions are unwrapped, bytes stay Buffers, longs numbers.
import type { Type } from 'avsc';
import { ConnectError } from '../../api/errors.ts';

export interface MappingOptions {
  ignoreUnknownFields?: boolean;
}

type Mapper = (value: unknown) => unknown;

/** Thrown while mapping; record and array mappers prepend their path segment as it unwinds. */
class MappingError extends Error {
  path = '';
  constructor(readonly problem: string) {
    super(problem);
  }
}

const mapperCache = new WeakMap<Type, { options: MappingOptions; mapper: Mapper }>();

/**
 * Converts `value` into what avsc writes for `type`. Throws ConnectError(code AVRO_MAPPING) naming the field path
 * (e.g. `binlog.filenum`, `args_b64[2]`) and the mismatch.
 */
export function toAvroValue(type: Type, value: unknown, options: MappingOptions = {}): unknown {
  let cached = mapperCache.get(type);
  if (!cached || cached.options.ignoreUnknownFields !== options.ignoreUnknownFields) {
    cached = { options, mapper: compile(type, options, new Map()) };
    mapperCache.set(type, cached);
  }
  try {
    return cached.mapper(value);
  } catch (err) {
    if (!(err instanceof MappingError)) throw err;
    const root = type.name ?? type.typeName;
    const where = err.path === '' ? '' : ` at ${err.path.replace(/^\./, '')}`;
    throw new ConnectError(`value does not fit Avro schema ${root}${where}: ${err.problem}`, {
      code: 'AVRO_MAPPING', stage: 'convert',
    });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing (undefined)';
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `the ${typeof value} ${String(value)}`;
}

function fail(expected: string, value: unknown): never {
  throw new MappingError(`expected ${expected}, got ${describe(value)}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function toBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') {
    if (!BASE64.test(value)) throw new MappingError(`expected bytes as a Buffer or standard base64 text, got a string that is not base64: ${describe(value)}`);
    return Buffer.from(value, 'base64');
  }
  return fail('bytes (a Buffer or base64 text)', value);
}

function integer(value: unknown, min: number, max: number, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (value instanceof Date && what === 'long') n = value.getTime();
  else return fail(what === 'long' ? 'a long (integer number, bigint or Date)' : `an ${what} (integer number)`, value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new MappingError(`expected ${what === 'int' ? 'an' : 'a'} ${what} in [${min}, ${max}], got ${typeof value === 'bigint' ? `the bigint ${value}` : describe(value)}`);
  }
  return n;
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'bytes' | 'array' | 'object';

function kindOfType(type: Type): Kind {
  switch (type.typeName) {
    case 'null': return 'null';
    case 'boolean': return 'boolean';
    case 'int': case 'long': case 'float': case 'double': return 'number';
    case 'string': case 'enum': return 'string';
    case 'bytes': case 'fixed': return 'bytes';
    case 'array': return 'array';
    default: return 'object';
  }
}

function kindOfValue(value: unknown): Kind {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof Date) return 'number';
  if (typeof value === 'string') return 'string';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

function compile(type: Type, options: MappingOptions, seen: Map<Type, Mapper>): Mapper {
  const known = seen.get(type);
  if (known) return known;
  // Recursive schemas: register a forwarder before compiling children.
  let self: Mapper = () => { throw new Error('mapper used before it was compiled'); };
  seen.set(type, (v) => self(v));
  self = compileNew(type, options, seen);
  return self;
}

function compileNew(type: Type, options: MappingOptions, seen: Map<Type, Mapper>): Mapper {
  const t = type as Type & Record<string, unknown>;
  switch (type.typeName) {
    case 'null':
      return (v) => (v === null || v === undefined ? null : fail('null', v));
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : fail('a boolean', v));
    case 'int':
      return (v) => integer(v, -0x80000000, 0x7fffffff, 'int');
    case 'long':
      return (v) => integer(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'long');
    case 'float': case 'double':
      return (v) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : fail(`a ${type.typeName} (number)`, v));
    case 'string':
      return (v) => (typeof v === 'string' ? v : fail('a string', v));
    case 'bytes':
      return toBytes;
    case 'fixed': {
      const size = t.size as number;
      return (v) => {
        const b = toBytes(v);
        if (b.length !== size) throw new MappingError(`expected fixed ${type.name} of ${size} bytes, got ${b.length} bytes`);
        return b;
      };
    }
    case 'enum': {
      const symbols = new Set(t.symbols as string[]);
      return (v) => (typeof v === 'string' && symbols.has(v) ? v : fail(`one of the ${type.name} symbols ${[...symbols].join('|')}`, v));
    }
    case 'array': {
      const item = compile(t.itemsType as Type, options, seen);
      return (v) => {
        if (!Array.isArray(v)) return fail('an array', v);
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            out[i] = item(v[i]);
          } catch (err) {
            if (err instanceof MappingError) err.path = `[${i}]${err.path}`;
            throw err;
          }
        }
        return out;
      };
    }
    case 'map': {
      const values = compile(t.valuesType as Type, options, seen);
      return (v) => {
        const entries = v instanceof Map ? [...v.entries()] : isPlainObject(v) ? Object.entries(v) : fail('a map (plain object or Map)', v);
        const out: Record<string, unknown> = {};
        for (const [k, item] of entries) {
          if (typeof k !== 'string') throw new MappingError(`map keys must be strings, got ${describe(k)}`);
          try {
            out[k] = values(item);
          } catch (err) {
            if (err instanceof MappingError) err.path = `[${JSON.stringify(k)}]${err.path}`;
            throw err;
          }
        }
        return out;
      };
    }
    case 'record': case 'error':
      return compileRecord(type, options, seen);
    case 'union:unwrapped': case 'union:wrapped':
      return compileUnion(type, options, seen);
    default:
      // Logical types registered by someone else: let avsc judge the value.
      return (v) => (type.isValid(v) ? v : fail(`a value of Avro type ${type.typeName}`, v));
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);
}

function compileRecord(type: Type, options: MappingOptions, seen: Map<Type, Mapper>): Mapper {
  const fields = (type as unknown as { fields: { name: string; type: Type; defaultValue(): unknown }[] }).fields.map((f) => ({
    name: f.name,
    map: compile(f.type, options, seen),
    hasDefault: f.defaultValue() !== undefined,
    defaultValue: () => f.defaultValue(),
  }));
  const names = new Set(fields.map((f) => f.name));
  return (v) => {
    if (!isPlainObject(v)) return fail(`a record ${type.name} (plain object)`, v);
    if (!options.ignoreUnknownFields) {
      for (const key in v) {
        if (!names.has(key) && v[key] !== undefined) {
          const err = new MappingError(`field "${key}" is not in schema ${type.name} (add it to the schema with a default, or set ignore.unknown.fields=true)`);
          throw err;
        }
      }
    }
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const raw = v[f.name];
      try {
        if (raw === undefined) {
          if (!f.hasDefault) throw new MappingError('required field is missing (it has no default)');
          out[f.name] = f.defaultValue();
        } else {
          out[f.name] = f.map(raw);
        }
      } catch (err) {
        if (err instanceof MappingError) err.path = `.${f.name}${err.path}`;
        throw err;
      }
    }
    return out;
  };
}

function compileUnion(type: Type, options: MappingOptions, seen: Map<Type, Mapper>): Mapper {
  const wrapped = type.typeName === 'union:wrapped';
  const branches = (type as unknown as { types: Type[] }).types.map((b) => ({
    kind: kindOfType(b),
    name: b.branchName ?? b.typeName,
    map: compile(b, options, seen),
  }));
  const nullBranch = branches.find((b) => b.kind === 'null');
  const expected = branches.map((b) => b.name).join(' | ');
  // Per JS kind, the branches to try: those of the same kind first, then the other non-null ones.
  const orderFor = new Map<Kind, typeof branches>();
  for (const kind of ['boolean', 'number', 'string', 'bytes', 'array', 'object'] as const) {
    orderFor.set(kind, [...branches.filter((b) => b.kind === kind), ...branches.filter((b) => b.kind !== kind && b.kind !== 'null')]);
  }
  return (v) => {
    const kind = kindOfValue(v);
    if (kind === 'null') return nullBranch ? null : fail(`one of [${expected}]`, v);
    const ordered = orderFor.get(kind)!;
    if (ordered.length === 1) {
      const mapped = ordered[0]!.map(v);
      return wrapped ? { [ordered[0]!.name]: mapped } : mapped;
    }
    const problems: string[] = [];
    for (const branch of ordered) {
      try {
        const mapped = branch.map(v);
        return wrapped ? { [branch.name]: mapped } : mapped;
      } catch (err) {
        if (!(err instanceof MappingError)) throw err;
        if (ordered.length === 1) throw err;
        problems.push(`${branch.name}: ${err.path ? `${err.path.replace(/^\./, '')}: ` : ''}${err.problem}`);
      }
    }
    throw new MappingError(`fits no branch of [${expected}] (${problems.join('; ')})`);
  };
}

/** Decoded avsc value → plain JS: records as plain objects, wrapped unions unwrapped. */
export function fromAvroValue(type: Type, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const t = type as Type & Record<string, unknown>;
  switch (type.typeName) {
    case 'record': case 'error': {
      const out: Record<string, unknown> = {};
      for (const f of t.fields as { name: string; type: Type }[]) out[f.name] = fromAvroValue(f.type, (value as Record<string, unknown>)[f.name]);
      return out;
    }
    case 'array':
      return (value as unknown[]).map((item) => fromAvroValue(t.itemsType as Type, item));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(value as Record<string, unknown>)) out[k] = fromAvroValue(t.valuesType as Type, item);
      return out;
    }
    case 'union:wrapped': {
      const [branchName, inner] = Object.entries(value as Record<string, unknown>)[0]!;
      const branch = (t.types as Type[]).find((b) => (b.branchName ?? b.typeName) === branchName)!;
      return fromAvroValue(branch, inner);
    }
    case 'union:unwrapped': {
      const nonNull = (t.types as Type[]).filter((b) => b.typeName !== 'null');
      const branch = nonNull.length === 1 ? nonNull[0] : nonNull.find((b) => b.isValid(value));
      return branch ? fromAvroValue(branch, value) : value;
    }
    default:
      return value;
  }
}
