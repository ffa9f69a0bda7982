// Schema-registry helpers for tests: an in-memory fake of the Confluent REST API (unit tests), a fetch wrapper that
// records every registry call, and the REGISTRY_URL switch for integration tests against real Apicurio
// (scripts/registry.sh start prints REGISTRY_URL).
import type { FetchLike } from '../../runtime/converters/avro/registry-client.ts';

export interface RecordedCall {
  method: string;
  path: string;
}

/** Wraps a fetch and records method + path (relative to the registry URL) of every request. */
export function countingFetch(inner: FetchLike = (u, i) => fetch(u, i)): { fetch: FetchLike; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    fetch: (url, init) => {
      calls.push({ method: init.method ?? 'GET', path: new URL(url).pathname.replace(/^.*?(\/(subjects|schemas|config|compatibility)\b)/, '$1') });
      return inner(url, init);
    },
  };
}

/** Integration tests: the real registry URL, or a skip reason naming how to get one. */
export function registryUrlOrSkip(): { url: string } | { skip: string } {
  const url = process.env.REGISTRY_URL;
  if (url) return { url };
  return { skip: 'REGISTRY_URL is not set: run `bash scripts/registry.sh start` and export the REGISTRY_URL it prints' };
}

/** A unique suffix so runs against a long-lived registry do not collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

interface FakeSubjectVersion {
  id: number;
  schema: string;
}

/**
 * An in-memory Confluent schema registry behind a fetch function. Compatibility is simulated by a predicate
 * (`compatible(old, new)`), default: always compatible. `failWith` forces every request to fail, to test error paths.
 */
export class FakeRegistry {
  readonly subjects = new Map<string, FakeSubjectVersion[]>();
  readonly schemas: string[] = [];
  readonly calls: RecordedCall[] = [];
  compatible: (oldSchema: string, newSchema: string) => boolean = () => true;
  compatibilityLevel = 'BACKWARD';
  failWith: { status: number; body: unknown } | 'network' | undefined;
  lastAuthorization: string | undefined;

  readonly fetch: FetchLike = async (url, init) => {
    const path = decodeURIComponent(new URL(url).pathname);
    const method = init.method ?? 'GET';
    this.calls.push({ method, path });
    this.lastAuthorization = (init.headers as Record<string, string> | undefined)?.Authorization;
    if (this.failWith === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    if (this.failWith) return json(this.failWith.status, this.failWith.body);
    const body = init.body ? (JSON.parse(String(init.body)) as { schema: string }) : undefined;
    let m: RegExpMatchArray | null;
    if (method === 'POST' && (m = path.match(/\/subjects\/([^/]+)\/versions$/))) return this.register(m[1]!, body!.schema);
    if (method === 'POST' && (m = path.match(/\/subjects\/([^/]+)$/))) {
      const found = this.subjects.get(m[1]!)?.find((v) => v.schema === body!.schema);
      return found ? json(200, { subject: m[1], id: found.id, version: 1, schema: found.schema }) : json(404, { error_code: 40403, message: 'Schema not found' });
    }
    if (method === 'GET' && (m = path.match(/\/subjects\/([^/]+)\/versions\/latest$/))) {
      const versions = this.subjects.get(m[1]!);
      if (!versions?.length) return json(404, { error_code: 40401, message: `Subject '${m[1]}' not found.` });
      const last = versions[versions.length - 1]!;
      return json(200, { subject: m[1], id: last.id, version: versions.length, schema: last.schema });
    }
    if (method === 'GET' && (m = path.match(/\/schemas\/ids\/(\d+)$/))) {
      const schema = this.schemas[Number(m[1]) - 1];
      return schema ? json(200, { schema }) : json(404, { error_code: 40403, message: 'Schema not found' });
    }
    if (method === 'GET' && /\/config(\/[^/]+)?$/.test(path)) return json(200, { compatibilityLevel: this.compatibilityLevel });
    return json(404, { error_code: 404, message: `fake registry: no route for ${method} ${path}` });
  };

  private register(subject: string, schema: string): Response {
    const versions = this.subjects.get(subject) ?? [];
    const existing = versions.find((v) => v.schema === schema);
    if (existing) return json(200, { id: existing.id });
    const last = versions[versions.length - 1];
    if (last && !this.compatible(last.schema, schema)) {
      return json(409, { error_code: 409, message: `Schema being registered is incompatible with an earlier schema for subject "${subject}"` });
    }
    let id = this.schemas.indexOf(schema) + 1;
    if (id === 0) id = this.schemas.push(schema);
    versions.push({ id, schema });
    this.subjects.set(subject, versions);
    return json(200, { id });
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' } });
}
