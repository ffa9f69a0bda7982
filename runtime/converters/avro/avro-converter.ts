import avsc from 'avsc';
import type { Type } from 'avsc';
import type { Converter, ConverterPlugin } from '../../api/converter.ts';
import type { SourceRecord } from '../../api/record.ts';
import { ConfigError, ConnectError } from '../../api/errors.ts';
import { parseAvroConverterConfig, type AvroConverterConfig } from './converter-config.ts';
import { SchemaRegistryClient, type FetchLike } from './registry-client.ts';
import { decodeFramed, encodeFramed, HEADER_SIZE } from './wire-format.ts';
import { fromAvroValue, toAvroValue } from './value-mapping.ts';

/**
 * A schema a record may carry for its key or value (Kafka Connect's SourceRecord keySchema/valueSchema):
 * an Avro schema as JSON text or as the parsed object. It wins over the converter's schema.file.
 */
export type AvroSchemaHint = string | object;

interface ParsedSchema {
  text: string;
  type: Type;
  /** Full name of a named schema (record/enum/fixed), for the record-name subject strategies. */
  fullName: string | undefined;
}

/**
 * Confluent's AvroConverter: plain JS values → Avro binary in Confluent's wire format (0x00, int32 schema id,
 * Avro body), with the schema registered in (or looked up from) a Confluent-compatible schema registry.
 *
 * Where the schema comes from, per record: the record's `keySchema`/`valueSchema` hint, else `schema.file`, else
 * (use.latest.version=true) the latest version registered under the subject. Values are mapped to the schema by
 * value-mapping.ts (e.g. base64 text fits a bytes field). Registry calls are cached per subject+schema text and
 * per schema id: after the first record of a schema, encoding does no I/O.
 *
 * Errors: registry unreachable / 5xx → RetriableError; incompatible schema, auth failure, unregistered schema,
 * value not fitting the schema → ConnectError (not retriable), all with stage "convert" and the subject named.
 */
export class AvroConverter implements Converter {
  private config: AvroConverterConfig | undefined;
  private client: SchemaRegistryClient | undefined;
  private isKey = false;
  private fileSchema: ParsedSchema | undefined;
  private readonly idCache = new Map<string, Map<string, Promise<number>>>();
  private readonly latestCache = new Map<string, Promise<{ id: number; schema: ParsedSchema }>>();
  private readonly byIdCache = new Map<number, Promise<ParsedSchema>>();
  private readonly hintCache = new Map<string, ParsedSchema>();
  private readonly hintObjects = new WeakMap<object, ParsedSchema>();
  private scratch = Buffer.allocUnsafe(64 * 1024);

  /** `fetch` is injectable for tests (e.g. to count registry calls). */
  constructor(private readonly fetchImpl?: FetchLike) {}

  configure(props: Record<string, string>, isKey: boolean): void {
    const config = parseAvroConverterConfig(props, isKey);
    this.isKey = isKey;
    if (config.schemaText !== undefined) {
      try {
        this.fileSchema = parseSchema(config.schemaText);
      } catch (err) {
        throw new ConfigError([`schema.file ${config.schemaOrigin}: not a valid Avro schema: ${(err as Error).message}`], `Invalid ${isKey ? 'key' : 'value'} AvroConverter configuration`);
      }
    }
    this.config = config;
    this.client = new SchemaRegistryClient({
      urls: config.urls,
      timeoutMs: config.requestTimeoutMs,
      ...(config.authorization ? { authorization: config.authorization } : {}),
      ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
    });
  }

  async fromConnectData(topic: string, data: unknown, record?: SourceRecord): Promise<Buffer | null> {
    if (data === null || data === undefined) return null;
    const config = this.requireConfig();
    const local = this.localSchema(record);
    if (!local && !config.useLatestVersion) {
      throw new ConnectError(`topic ${topic}: no Avro schema for the record ${this.side()}: set ${this.side()}.converter.schema.file, let the record carry ${this.side()}Schema, or use.latest.version=true with auto.register.schemas=false`, {
        code: 'AVRO_NO_SCHEMA', stage: 'convert',
      });
    }
    const subject = config.subjectStrategy(topic, this.isKey, local?.fullName);
    let id: number;
    let writer: ParsedSchema;
    if (config.useLatestVersion) {
      ({ id, schema: writer } = await this.latest(subject));
    } else {
      writer = local!;
      id = await this.schemaId(subject, writer.text, config.autoRegister);
    }
    try {
      return this.encode(id, writer.type, toAvroValue(writer.type, data, { ignoreUnknownFields: config.ignoreUnknownFields }));
    } catch (err) {
      if (err instanceof ConnectError) {
        throw new ConnectError(`topic ${topic}, subject "${subject}": ${err.message}`, { code: err.code, stage: 'convert', cause: err });
      }
      throw new ConnectError(`topic ${topic}: Avro encoding with the schema of subject "${subject}" failed: ${(err as Error).message}`, { code: 'AVRO_MAPPING', stage: 'convert', cause: err });
    }
  }

  /** Writes header and body into a reused scratch buffer (grown on demand), then copies out exactly the bytes used. */
  private encode(id: number, type: Type, value: unknown): Buffer {
    for (;;) {
      const end = type.encode(value, this.scratch, HEADER_SIZE);
      if (end >= 0) {
        const framed = encodeFramed(id, this.scratch.subarray(HEADER_SIZE, end));
        return framed;
      }
      // avsc returns -(missing bytes) when the buffer is too small.
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, HEADER_SIZE - end));
    }
  }

  async toConnectData(topic: string, bytes: Buffer | null): Promise<unknown> {
    if (bytes === null || bytes === undefined) return null;
    this.requireConfig();
    const { schemaId, payload } = decodeFramed(bytes, topic);
    const schema = await this.schemaById(schemaId);
    let decoded: unknown;
    try {
      decoded = schema.type.fromBuffer(payload);
    } catch (err) {
      throw new ConnectError(`topic ${topic}: bytes do not decode with schema id ${schemaId} (${schema.fullName ?? schema.type.typeName}): ${(err as Error).message}`, {
        code: 'AVRO_DECODE', stage: 'convert', cause: err,
      });
    }
    return fromAvroValue(schema.type, decoded);
  }

  private side(): 'key' | 'value' {
    return this.isKey ? 'key' : 'value';
  }

  private requireConfig(): AvroConverterConfig {
    if (!this.config) throw new ConnectError('AvroConverter used before configure()', { code: 'CONFIG', stage: 'convert' });
    return this.config;
  }

  private localSchema(record: SourceRecord | undefined): ParsedSchema | undefined {
    const hint = record ? (record as SourceRecord & { keySchema?: unknown; valueSchema?: unknown })[this.isKey ? 'keySchema' : 'valueSchema'] : undefined;
    if (hint === undefined || hint === null) return this.fileSchema;
    if (typeof hint === 'string') return this.cachedHint(this.hintCache.get(hint), () => parseSchema(hint), (p) => this.hintCache.set(hint, p));
    if (typeof hint === 'object') return this.cachedHint(this.hintObjects.get(hint), () => parseSchema(JSON.stringify(hint)), (p) => this.hintObjects.set(hint, p));
    throw new ConnectError(`record ${this.side()}Schema must be an Avro schema (JSON text or object), got ${typeof hint}`, { code: 'AVRO_SCHEMA', stage: 'convert' });
  }

  private cachedHint(hit: ParsedSchema | undefined, parse: () => ParsedSchema, store: (p: ParsedSchema) => void): ParsedSchema {
    if (hit) return hit;
    let parsed: ParsedSchema;
    try {
      parsed = parse();
    } catch (err) {
      throw new ConnectError(`record ${this.side()}Schema is not a valid Avro schema: ${(err as Error).message}`, { code: 'AVRO_SCHEMA', stage: 'convert', cause: err });
    }
    store(parsed);
    return parsed;
  }

  private schemaId(subject: string, text: string, autoRegister: boolean): Promise<number> {
    let bySchema = this.idCache.get(subject);
    if (!bySchema) this.idCache.set(subject, (bySchema = new Map()));
    let pending = bySchema.get(text);
    if (!pending) {
      pending = autoRegister ? this.client!.register(subject, text) : this.client!.lookup(subject, text);
      bySchema.set(text, pending);
      // A failure is not cached: the next record asks again (the registry may be back, or the rule relaxed).
      pending.catch(() => bySchema!.delete(text));
    }
    return pending;
  }

  private latest(subject: string): Promise<{ id: number; schema: ParsedSchema }> {
    let pending = this.latestCache.get(subject);
    if (!pending) {
      pending = this.client!.latest(subject).then((r) => ({ id: r.id, schema: this.parseRegistered(r.schema, `latest version of subject "${subject}"`) }));
      this.latestCache.set(subject, pending);
      pending.catch(() => this.latestCache.delete(subject));
    }
    return pending;
  }

  private schemaById(id: number): Promise<ParsedSchema> {
    let pending = this.byIdCache.get(id);
    if (!pending) {
      pending = this.client!.schemaById(id).then((text) => this.parseRegistered(text, `schema id ${id}`));
      this.byIdCache.set(id, pending);
      pending.catch(() => this.byIdCache.delete(id));
    }
    return pending;
  }

  private parseRegistered(text: string, what: string): ParsedSchema {
    try {
      return parseSchema(text);
    } catch (err) {
      throw new ConnectError(`${what} from the registry is not a valid Avro schema: ${(err as Error).message}`, { code: 'AVRO_SCHEMA', stage: 'convert', cause: err });
    }
  }
}

/**
 * Parses Avro schema text with avsc (unions unwrapped where unambiguous, logical types kept as their base type).
 * `text` becomes the compact JSON that is registered (docs and attributes kept, whitespace dropped), so a file's
 * formatting does not make a new registry version.
 */
export function parseSchema(text: string): ParsedSchema {
  const json: unknown = JSON.parse(text);
  const type = avsc.Type.forSchema(json as avsc.Schema, { wrapUnions: 'auto' });
  const named = ['record', 'error', 'enum', 'fixed'].includes(type.typeName);
  return { text: JSON.stringify(json), type, fullName: named ? type.name : undefined };
}

export const avroConverterPlugin: ConverterPlugin = {
  names: ['io.confluent.connect.avro.AvroConverter', 'avro'],
  create: () => new AvroConverter(),
};
