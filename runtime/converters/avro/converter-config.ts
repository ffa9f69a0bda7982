// Configuration of AvroConverter: Confluent's key names (as in io.confluent.connect.avro.AvroConverter), plus
// `schema.file` and `ignore.unknown.fields`, which exist because our records carry plain JS values, not Connect
// Structs with a schema attached.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../api/errors.ts';
import { subjectNameStrategy, SUBJECT_STRATEGY_NAMES, type SubjectNameStrategy } from './subject-strategy.ts';

export interface AvroConverterConfig {
  urls: string[];
  authorization: string | undefined;
  autoRegister: boolean;
  useLatestVersion: boolean;
  subjectStrategy: SubjectNameStrategy;
  /** Schema text from schema.file, when set. */
  schemaText: string | undefined;
  schemaOrigin: string | undefined;
  ignoreUnknownFields: boolean;
  requestTimeoutMs: number;
}

export const AVRO_CONVERTER_KEYS: Record<string, string> = {
  'schema.registry.url': 'Comma-separated base URL(s) of the Confluent-compatible schema registry (required), e.g. http://127.0.0.1:18081/apis/ccompat/v7 for Apicurio.',
  'auto.register.schemas': 'true (default): register the schema under its subject when first used. false: it must already be registered.',
  'use.latest.version': 'false (default). true (with auto.register.schemas=false): write with the latest schema registered under the subject.',
  'key.subject.name.strategy': `Subject of key schemas: ${SUBJECT_STRATEGY_NAMES.join(', ')} (default TopicNameStrategy: <topic>-key).`,
  'value.subject.name.strategy': 'Subject of value schemas (default TopicNameStrategy: <topic>-value).',
  'basic.auth.credentials.source': 'URL (default: user:password in schema.registry.url) or USER_INFO (basic.auth.user.info).',
  'basic.auth.user.info': 'user:password for basic.auth.credentials.source=USER_INFO.',
  'schema.file': 'Path of the .avsc schema for this converter\'s records (relative paths from the working directory). A record may supply its own schema instead (SourceRecord keySchema/valueSchema).',
  'ignore.unknown.fields': 'false (default): a record field the schema lacks is an error. true: such fields are dropped.',
  'schema.registry.request.timeout.ms': 'Timeout of one registry HTTP request (default 30000).',
};

function bool(props: Record<string, string>, key: string, fallback: boolean, problems: string[]): boolean {
  const v = props[key]?.trim();
  if (v === undefined || v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  problems.push(`${key} must be true or false, got "${props[key]}"`);
  return fallback;
}

/** Parses and validates converter properties (prefix already removed); throws ConfigError listing every problem. */
export function parseAvroConverterConfig(props: Record<string, string>, isKey: boolean, cwd = process.cwd()): AvroConverterConfig {
  const problems: string[] = [];
  const side = isKey ? 'key' : 'value';
  for (const key of Object.keys(props)) {
    if (!(key in AVRO_CONVERTER_KEYS)) problems.push(`unknown AvroConverter setting "${key}"; supported: ${Object.keys(AVRO_CONVERTER_KEYS).join(', ')}`);
  }
  const rawUrls = (props['schema.registry.url'] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (rawUrls.length === 0) problems.push(`schema.registry.url is required for the ${side} AvroConverter`);

  const source = (props['basic.auth.credentials.source'] ?? 'URL').trim().toUpperCase();
  let authorization: string | undefined;
  const urls: string[] = [];
  for (const raw of rawUrls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      problems.push(`schema.registry.url: "${raw}" is not a URL`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`schema.registry.url: "${raw}" must use http or https`);
    // fetch() refuses URLs with credentials: they move into the Authorization header.
    if (url.username || url.password) {
      if (source === 'URL') authorization ??= basic(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
      url.username = '';
      url.password = '';
    }
    urls.push(url.toString().replace(/\/+$/, ''));
  }
  if (source === 'USER_INFO') {
    const info = props['basic.auth.user.info'];
    if (!info || !info.includes(':')) problems.push('basic.auth.credentials.source=USER_INFO needs basic.auth.user.info=<user>:<password>');
    else authorization = basic(info);
  } else if (source !== 'URL') {
    problems.push(`basic.auth.credentials.source must be URL or USER_INFO (SASL_INHERIT is not supported), got "${props['basic.auth.credentials.source']}"`);
  }

  const autoRegister = bool(props, 'auto.register.schemas', true, problems);
  const useLatestVersion = bool(props, 'use.latest.version', false, problems);
  if (autoRegister && useLatestVersion) problems.push('use.latest.version=true needs auto.register.schemas=false (as in Confluent\'s serializers)');
  const ignoreUnknownFields = bool(props, 'ignore.unknown.fields', false, problems);

  const timeoutText = props['schema.registry.request.timeout.ms'];
  const requestTimeoutMs = timeoutText === undefined ? 30000 : Number(timeoutText);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0) problems.push(`schema.registry.request.timeout.ms must be a positive integer, got "${timeoutText}"`);

  const strategyKey = `${side}.subject.name.strategy`;
  let subjectStrategy: SubjectNameStrategy = subjectNameStrategy(undefined, strategyKey);
  try {
    subjectStrategy = subjectNameStrategy(props[strategyKey], strategyKey);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }

  let schemaText: string | undefined;
  let schemaOrigin: string | undefined;
  const file = props['schema.file']?.trim();
  if (file) {
    schemaOrigin = resolve(cwd, file);
    try {
      schemaText = readFileSync(schemaOrigin, 'utf8');
    } catch (err) {
      problems.push(`schema.file: cannot read ${schemaOrigin}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, `Invalid ${side} AvroConverter configuration`);
  return { urls, authorization, autoRegister, useLatestVersion, subjectStrategy, schemaText, schemaOrigin, ignoreUnknownFields, requestTimeoutMs };
}

function basic(userInfo: string): string {
  return `Basic ${Buffer.from(userInfo, 'utf8').toString('base64')}`;
}
