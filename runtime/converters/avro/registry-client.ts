// A small client for the Confluent Schema Registry REST API (also served by Apicurio at /apis/ccompat/v7,
// Karapace, Redpanda …). Only the calls a serializer needs. It does not cache: AvroConverter caches per
// subject+schema and per id, so the registry is called once per new schema, not per record.
import { ConnectError, RetriableError } from '../../api/errors.ts';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RegistryClientOptions {
  /** Base URLs, tried in order on network errors (Confluent's schema.registry.url accepts a comma-separated list). */
  urls: string[];
  /** Full Authorization header value, e.g. "Basic dXNlcjpwYXNz". */
  authorization?: string;
  timeoutMs: number;
  fetch?: FetchLike;
}

export interface RegisteredSchema {
  id: number;
  schema: string;
  version?: number;
}

/** A 4xx answer: the registry understood the request and refused it. */
export class RegistryResponseError extends Error {
  constructor(readonly status: number, readonly errorCode: number | undefined, readonly registryMessage: string, url: string) {
    super(`schema registry ${url} answered HTTP ${status}${errorCode === undefined ? '' : ` (error_code ${errorCode})`}: ${registryMessage}`);
    this.name = 'RegistryResponseError';
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryClient {
  private readonly urls: string[];
  private readonly fetch: FetchLike;

  constructor(private readonly options: RegistryClientOptions) {
    if (options.urls.length === 0) throw new Error('at least one schema registry URL is needed');
    this.urls = options.urls.map((u) => u.replace(/\/+$/, ''));
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** Registers `schema` under `subject` (idempotent: an identical schema gets its existing id). */
  async register(subject: string, schema: string): Promise<number> {
    try {
      const body = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema });
      return readId(body, 'register');
    } catch (err) {
      throw await this.explain(err, subject, 'register the schema');
    }
  }

  /** The id of `schema` if it is already registered under `subject`; a ConnectError otherwise. */
  async lookup(subject: string, schema: string): Promise<number> {
    try {
      const body = await this.request('POST', `/subjects/${encodeURIComponent(subject)}`, { schema });
      return readId(body, 'lookup');
    } catch (err) {
      if (err instanceof RegistryResponseError && err.status === 404) {
        throw new ConnectError(`schema is not registered under subject "${subject}" and auto.register.schemas=false: register it first, or enable auto.register.schemas (${err.registryMessage})`, {
          code: 'SCHEMA_NOT_REGISTERED', stage: 'convert', cause: err,
        });
      }
      throw await this.explain(err, subject, 'look up the schema');
    }
  }

  async latest(subject: string): Promise<RegisteredSchema> {
    try {
      const body = await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`);
      const b = body as { id?: unknown; schema?: unknown; version?: unknown };
      if (typeof b.schema !== 'string') throw new ConnectError(`schema registry: latest version of "${subject}" has no schema text`, { code: 'SCHEMA_REGISTRY_PROTOCOL', stage: 'convert' });
      return { id: readId(body, 'latest version'), schema: b.schema, ...(typeof b.version === 'number' ? { version: b.version } : {}) };
    } catch (err) {
      if (err instanceof RegistryResponseError && err.status === 404) {
        throw new ConnectError(`use.latest.version=true but subject "${subject}" has no registered version (${err.registryMessage})`, {
          code: 'SCHEMA_NOT_REGISTERED', stage: 'convert', cause: err,
        });
      }
      throw await this.explain(err, subject, 'read the latest schema');
    }
  }

  async schemaById(id: number): Promise<string> {
    try {
      const body = await this.request('GET', `/schemas/ids/${id}`);
      const b = body as { schema?: unknown; schemaType?: unknown };
      if (b.schemaType !== undefined && b.schemaType !== 'AVRO') {
        throw new ConnectError(`schema id ${id} is a ${String(b.schemaType)} schema, not Avro`, { code: 'AVRO_SCHEMA', stage: 'convert' });
      }
      if (typeof b.schema !== 'string') throw new ConnectError(`schema registry: schema id ${id} has no schema text`, { code: 'SCHEMA_REGISTRY_PROTOCOL', stage: 'convert' });
      return b.schema;
    } catch (err) {
      if (err instanceof RegistryResponseError && err.status === 404) {
        throw new ConnectError(`schema id ${id} is unknown to the schema registry (${err.registryMessage}); was the data written against another registry?`, {
          code: 'SCHEMA_NOT_FOUND', stage: 'convert', cause: err,
        });
      }
      throw await this.explain(err, `schema id ${id}`, 'read the schema');
    }
  }

  /** The compatibility level that applies to `subject` (its own, else the global one); undefined when unknown. */
  async compatibilityLevel(subject: string): Promise<string | undefined> {
    const level = async (path: string): Promise<string | undefined> => {
      try {
        const body = (await this.request('GET', path)) as { compatibilityLevel?: unknown; compatibility?: unknown };
        const value = body.compatibilityLevel ?? body.compatibility;
        return typeof value === 'string' ? value : undefined;
      } catch {
        return undefined;
      }
    };
    const own = await level(`/config/${encodeURIComponent(subject)}`);
    // Apicurio reports NONE for a subject without its own rule even when a global rule applies.
    if (own !== undefined && own !== 'NONE') return own;
    return (await level('/config')) ?? own;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Accept: `${CONTENT_TYPE}, application/json` };
    if (body !== undefined) headers['Content-Type'] = CONTENT_TYPE;
    if (this.options.authorization) headers.Authorization = this.options.authorization;
    const failures: string[] = [];
    for (const base of this.urls) {
      const url = base + path;
      let response: Response;
      let text: string;
      try {
        response = await this.fetch(url, {
          method, headers, signal: AbortSignal.timeout(this.options.timeoutMs),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        text = await response.text();
      } catch (err) {
        failures.push(`${base}: ${describeNetworkError(err, this.options.timeoutMs)}`);
        continue;
      }
      if (response.status >= 500) {
        throw new RetriableError(`schema registry ${base} answered HTTP ${response.status} to ${method} ${path}: ${registryMessage(text)}`, {
          code: 'SCHEMA_REGISTRY_UNAVAILABLE', stage: 'convert',
        });
      }
      if (response.status >= 400) {
        const parsed = tryParse(text) as { error_code?: unknown } | undefined;
        throw new RegistryResponseError(response.status, typeof parsed?.error_code === 'number' ? parsed.error_code : undefined, registryMessage(text), base);
      }
      const parsed = tryParse(text);
      if (parsed === undefined) {
        throw new ConnectError(`schema registry ${base} answered ${method} ${path} with non-JSON: ${text.slice(0, 200)}`, { code: 'SCHEMA_REGISTRY_PROTOCOL', stage: 'convert' });
      }
      return parsed;
    }
    throw new RetriableError(`schema registry unreachable (${method} ${path}): ${failures.join('; ')}`, {
      code: 'SCHEMA_REGISTRY_UNAVAILABLE', stage: 'convert',
    });
  }

  /** Turns a refusal into a ConnectError that names the subject (and, for incompatibility, the rule). */
  private async explain(err: unknown, subject: string, action: string): Promise<unknown> {
    if (!(err instanceof RegistryResponseError)) return err;
    if (err.status === 409) {
      const rule = await this.compatibilityLevel(subject);
      return new ConnectError(`schema registry refused to register a new schema version under subject "${subject}": it breaks the subject's ${rule ?? 'configured'} compatibility rule (registry: ${err.registryMessage}). Evolve the schema compatibly (e.g. add fields with defaults) or register it under another subject`, {
        code: 'SCHEMA_INCOMPATIBLE', stage: 'convert', cause: err,
      });
    }
    if (err.status === 401 || err.status === 403) {
      return new ConnectError(`schema registry rejected the credentials while trying to ${action} for subject "${subject}" (HTTP ${err.status}): check basic.auth.credentials.source / basic.auth.user.info`, {
        code: 'SCHEMA_REGISTRY_AUTH', stage: 'convert', cause: err,
      });
    }
    if (err.status === 422) {
      return new ConnectError(`schema registry found the schema for subject "${subject}" invalid: ${err.registryMessage}`, {
        code: 'SCHEMA_INVALID', stage: 'convert', cause: err,
      });
    }
    return new ConnectError(`could not ${action} for subject "${subject}": ${err.message}`, { code: 'SCHEMA_REGISTRY', stage: 'convert', cause: err });
  }
}

function readId(body: unknown, what: string): number {
  const id = (body as { id?: unknown }).id;
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new ConnectError(`schema registry: ${what} answer has no integer id: ${JSON.stringify(body).slice(0, 200)}`, { code: 'SCHEMA_REGISTRY_PROTOCOL', stage: 'convert' });
  }
  return id;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function registryMessage(text: string): string {
  const parsed = tryParse(text) as { message?: unknown } | undefined;
  return typeof parsed?.message === 'string' ? parsed.message : text.slice(0, 300) || '(empty body)';
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  const detail = cause?.code ?? cause?.message;
  return err instanceof Error ? `${err.message}${detail ? ` (${detail})` : ''}` : String(err);
}
