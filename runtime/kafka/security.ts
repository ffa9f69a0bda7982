// Kafka client security settings (Java client names: security.protocol, ssl.*, sasl.*) → kafkajs `ssl` / `sasl`.
// TLS material comes from PEM only (files or inline values, as Kafka's PEM store type); JKS/PKCS12 stores are refused
// with the conversion command. Secrets (passwords, keys, the JAAS value) never appear in messages.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ConfigError, ConnectError, RetriableError } from '../api/errors.ts';
import { JaasSyntaxError, parseJaasConfig } from './jaas.ts';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export interface KafkaSecurity {
  protocol: SecurityProtocol;
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
}

const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** sasl.mechanism → kafkajs mechanism and the JAAS login module Kafka pairs with it. */
const MECHANISMS = {
  PLAIN: { kafkajs: 'plain', loginModule: 'org.apache.kafka.common.security.plain.PlainLoginModule' },
  'SCRAM-SHA-256': { kafkajs: 'scram-sha-256', loginModule: 'org.apache.kafka.common.security.scram.ScramLoginModule' },
  'SCRAM-SHA-512': { kafkajs: 'scram-sha-512', loginModule: 'org.apache.kafka.common.security.scram.ScramLoginModule' },
} as const;
type Mechanism = keyof typeof MECHANISMS;

export const SUPPORTED_SASL_KEYS = ['sasl.mechanism', 'sasl.jaas.config'] as const;
export const SUPPORTED_SSL_KEYS = [
  'ssl.truststore.location', 'ssl.truststore.type', 'ssl.truststore.certificates',
  'ssl.keystore.location', 'ssl.keystore.type', 'ssl.keystore.key', 'ssl.keystore.certificate.chain', 'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
] as const;

/** Why a JKS/PKCS12 store is refused and how to convert it (shown by config validation too). */
export const PEM_HINT = {
  truststore: 'JKS and PKCS12 trust stores are not supported: export the CA certificate(s) as PEM '
    + '(keytool -exportcert -rfc -alias <ca> -keystore truststore.jks -file ca.pem, or openssl pkcs12 -in truststore.p12 -nokeys -out ca.pem) '
    + 'and point ssl.truststore.location at that file',
  keystore: 'JKS and PKCS12 key stores are not supported: ssl.keystore.location must point to a PEM file holding the private key '
    + 'followed by its certificate chain (e.g. openssl pkcs12 -in keystore.p12 -out keystore.pem, after keytool -importkeystore '
    + '-deststoretype PKCS12 for a JKS store)',
};

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

interface PemBlock { label: string; text: string }

function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BEGIN)].map((m) => ({ label: m[1]!, text: `${m[0]}\n` }));
}

/** Collects problems as "<origin> <key>: <message>" (the worker config's format) instead of failing on the first. */
class Problems {
  readonly list: string[] = [];
  constructor(private readonly origin: string) {}
  add(key: string, message: string): void {
    this.list.push(`${this.origin} ${key}: ${message}`);
  }
}

function readText(problems: Problems, key: string, file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.add(key, `cannot read ${file} (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})`);
    return undefined;
  }
}

function certificates(problems: Problems, key: string, what: string, blocks: PemBlock[]): string[] {
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => b.text);
  for (const [i, cert] of certs.entries()) {
    try {
      new X509Certificate(cert);
    } catch (error) {
      problems.add(key, `certificate ${i + 1} of ${what} is not a valid X.509 certificate (${(error as Error).message})`);
    }
  }
  return certs;
}

function storeType(problems: Problems, props: Record<string, string>, key: string, hint: string): void {
  const type = props[key]?.trim();
  if (type !== undefined && type !== '' && type.toUpperCase() !== 'PEM') problems.add(key, `must be PEM, got ${JSON.stringify(type)}; ${hint}`);
}

function trustOptions(problems: Problems, props: Record<string, string>): string[] | undefined {
  storeType(problems, props, 'ssl.truststore.type', PEM_HINT.truststore);
  if (props['ssl.truststore.password'] !== undefined) {
    problems.add('ssl.truststore.password', 'a PEM trust store has no password; remove it');
  }
  const location = props['ssl.truststore.location']?.trim();
  const inline = props['ssl.truststore.certificates'];
  if (location && inline !== undefined) {
    problems.add('ssl.truststore.certificates', 'set either ssl.truststore.location or ssl.truststore.certificates, not both');
    return undefined;
  }
  let source: { key: string; what: string; text: string } | undefined;
  if (location) {
    const text = readText(problems, 'ssl.truststore.location', location);
    if (text !== undefined) source = { key: 'ssl.truststore.location', what: location, text };
  } else if (inline !== undefined) {
    source = { key: 'ssl.truststore.certificates', what: 'the value', text: inline };
  }
  if (!source) return undefined; // the system's trusted CAs, as the JVM's default trust store
  const certs = certificates(problems, source.key, source.what, pemBlocks(source.text));
  if (certs.length === 0) {
    problems.add(source.key, `${source.what} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); ${PEM_HINT.truststore}`);
    return undefined;
  }
  return certs;
}

function keyOptions(problems: Problems, props: Record<string, string>): Pick<ConnectionOptions, 'key' | 'cert' | 'passphrase'> | undefined {
  storeType(problems, props, 'ssl.keystore.type', PEM_HINT.keystore);
  if (props['ssl.keystore.password'] !== undefined) {
    problems.add('ssl.keystore.password', 'a PEM key store has no store password; put the password of an encrypted private key in ssl.key.password');
  }
  const location = props['ssl.keystore.location']?.trim();
  const inlineKey = props['ssl.keystore.key'];
  const inlineChain = props['ssl.keystore.certificate.chain'];
  const password = props['ssl.key.password'];
  if (location && (inlineKey !== undefined || inlineChain !== undefined)) {
    problems.add('ssl.keystore.location', 'set either ssl.keystore.location or ssl.keystore.key with ssl.keystore.certificate.chain, not both');
    return undefined;
  }
  if (!location && (inlineKey === undefined) !== (inlineChain === undefined)) {
    problems.add(inlineKey === undefined ? 'ssl.keystore.key' : 'ssl.keystore.certificate.chain',
      'ssl.keystore.key and ssl.keystore.certificate.chain go together; set both');
    return undefined;
  }
  let keyBlocks: PemBlock[];
  let chainBlocks: PemBlock[];
  let keyKey: string;
  let chainKey: string;
  let what: string;
  if (location) {
    const text = readText(problems, 'ssl.keystore.location', location);
    if (text === undefined) return undefined;
    keyBlocks = chainBlocks = pemBlocks(text);
    keyKey = chainKey = 'ssl.keystore.location';
    what = location;
    if (keyBlocks.length === 0) {
      problems.add(keyKey, `${location} is not a PEM file (no "-----BEGIN" line); ${PEM_HINT.keystore}`);
      return undefined;
    }
  } else if (inlineKey !== undefined && inlineChain !== undefined) {
    keyBlocks = pemBlocks(inlineKey);
    chainBlocks = pemBlocks(inlineChain);
    keyKey = 'ssl.keystore.key';
    chainKey = 'ssl.keystore.certificate.chain';
    what = 'the value';
  } else {
    if (password !== undefined) problems.add('ssl.key.password', 'is set but there is no key: set ssl.keystore.location too');
    return undefined;
  }
  const keys = keyBlocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  const chain = certificates(problems, chainKey, what, chainBlocks);
  if (keys.length !== 1) problems.add(keyKey, `${what} must hold exactly one PEM private key ("-----BEGIN PRIVATE KEY-----" or "-----BEGIN ENCRYPTED PRIVATE KEY-----"), found ${keys.length}`);
  if (chain.length === 0) problems.add(chainKey, `${what} holds no PEM certificate ("-----BEGIN CERTIFICATE-----") for the private key`);
  if (keys.length !== 1 || chain.length === 0) return undefined;
  const key = keys[0]!;
  if (key.label === 'ENCRYPTED PRIVATE KEY' && password === undefined) {
    problems.add('ssl.key.password', `required: the private key in ${what} is encrypted`);
    return undefined;
  }
  try {
    createPrivateKey({ key: key.text, format: 'pem', ...(password === undefined ? {} : { passphrase: password }) });
  } catch {
    // OpenSSL's message adds nothing for a user; the likely causes are these two.
    problems.add(key.label === 'ENCRYPTED PRIVATE KEY' ? 'ssl.key.password' : keyKey,
      key.label === 'ENCRYPTED PRIVATE KEY' ? `does not decrypt the private key in ${what}` : `the private key in ${what} cannot be read`);
    return undefined;
  }
  return { key: key.text, cert: chain.join(''), ...(password === undefined ? {} : { passphrase: password }) };
}

function tlsOptions(problems: Problems, props: Record<string, string>): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: true };
  const ca = trustOptions(problems, props);
  if (ca) options.ca = ca;
  const key = keyOptions(problems, props);
  if (key) Object.assign(options, key);
  const algorithm = props['ssl.endpoint.identification.algorithm']?.trim();
  if (algorithm !== undefined && algorithm !== '' && algorithm.toLowerCase() !== 'https') {
    problems.add('ssl.endpoint.identification.algorithm', `must be https (check the broker's host name, the default) or empty (do not), got ${JSON.stringify(algorithm)}`);
  }
  // Kafka: an empty value turns host name verification off; the certificate chain is still verified.
  if (algorithm === '') options.checkServerIdentity = () => undefined;
  return options;
}

function saslOptions(problems: Problems, props: Record<string, string>): SASLOptions | undefined {
  const raw = props['sasl.mechanism']?.trim();
  const names = Object.keys(MECHANISMS).join(', ');
  if (raw === undefined || raw === '') {
    problems.add('sasl.mechanism', `required with a SASL security.protocol (Kafka's default GSSAPI/Kerberos is not supported); one of ${names}`);
    return undefined;
  }
  const mechanism = raw.toUpperCase() as Mechanism;
  if (!(mechanism in MECHANISMS)) {
    problems.add('sasl.mechanism', `must be one of ${names}, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  const { kafkajs, loginModule } = MECHANISMS[mechanism];
  const jaas = props['sasl.jaas.config'];
  if (jaas === undefined || jaas.trim() === '') {
    problems.add('sasl.jaas.config', `required for sasl.mechanism=${mechanism}, e.g. ${loginModule} required username="..." password="...";`);
    return undefined;
  }
  try {
    const entry = parseJaasConfig(jaas);
    if (entry.loginModule !== loginModule) {
      problems.add('sasl.jaas.config', `sasl.mechanism=${mechanism} takes the login module ${loginModule}, got ${entry.loginModule}`);
      return undefined;
    }
    const { username, password, ...rest } = entry.options;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) problems.add('sasl.jaas.config', `unsupported option(s) ${unknown.join(', ')}; ${loginModule} takes username and password`);
    if (!username || password === undefined) {
      problems.add('sasl.jaas.config', `needs username="..." and password="..." options`);
      return undefined;
    }
    return { mechanism: kafkajs, username, password } as SASLOptions;
  } catch (error) {
    if (!(error instanceof JaasSyntaxError)) throw error;
    problems.add('sasl.jaas.config', `cannot be parsed: ${error.message}`);
    return undefined;
  }
}

function unsupportedKeys(problems: Problems, props: Record<string, string>, protocol: SecurityProtocol): void {
  const usesSsl = protocol === 'SSL' || protocol === 'SASL_SSL';
  const usesSasl = protocol.startsWith('SASL_');
  for (const key of Object.keys(props)) {
    if (key === 'security.protocol') continue;
    const isSsl = key.startsWith('ssl.');
    const supported: readonly string[] = isSsl ? SUPPORTED_SSL_KEYS : SUPPORTED_SASL_KEYS;
    if (!supported.includes(key)) {
      // The password keys of PEM stores get their own message in trustOptions/keyOptions.
      if (key === 'ssl.truststore.password' || key === 'ssl.keystore.password') continue;
      problems.add(key, `not supported by pika-connect; supported ${isSsl ? 'TLS' : 'SASL'} settings: ${supported.join(', ')}`);
    } else if (isSsl ? !usesSsl : !usesSasl) {
      problems.add(key, `has no effect with security.protocol=${protocol}; set security.protocol to ${isSsl ? 'SSL or SASL_SSL' : 'SASL_PLAINTEXT or SASL_SSL'}, or remove it`);
    }
  }
}

function protocolOf(problems: Problems, props: Record<string, string>): SecurityProtocol | undefined {
  const raw = props['security.protocol']?.trim() ?? '';
  if (raw === '') return 'PLAINTEXT';
  const protocol = raw.toUpperCase() as SecurityProtocol;
  if (PROTOCOLS.includes(protocol)) return protocol;
  problems.add('security.protocol', `must be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(raw)}`);
  return undefined;
}

function build(props: Record<string, string>, origin: string): { security?: KafkaSecurity; problems: string[] } {
  const problems = new Problems(origin);
  const protocol = protocolOf(problems, props);
  if (protocol === undefined) return { problems: problems.list };
  unsupportedKeys(problems, props, protocol);
  const security: KafkaSecurity = { protocol };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') security.ssl = tlsOptions(problems, props);
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const sasl = saslOptions(problems, props);
    if (sasl) security.sasl = sasl;
  }
  return problems.list.length > 0 ? { problems: problems.list } : { security, problems: [] };
}

/**
 * Every problem of the security settings (reading the PEM files named), as "<origin> <key>: <message>".
 * `props` holds security.protocol, ssl.* and sasl.* with their Kafka names (WorkerConfig.securityProps).
 */
export function securityProblems(props: Record<string, string>, origin = 'worker config'): string[] {
  return build(props, origin).problems;
}

/** The kafkajs options for `props`; throws one ConfigError listing every problem. */
export function kafkaSecurity(props: Record<string, string>, origin = 'worker config'): KafkaSecurity {
  const { security, problems } = build(props, origin);
  if (!security) throw new ConfigError(problems, 'Invalid Kafka security settings');
  return security;
}

/** A one-line summary safe to log: protocol, mechanism, user name and where trust comes from, never a secret. */
export function describeSecurity(security: KafkaSecurity): string {
  const parts: string[] = [security.protocol];
  if (security.sasl) parts.push(`${security.sasl.mechanism.toUpperCase()} as user ${(security.sasl as { username: string }).username}`);
  if (security.ssl) {
    parts.push(security.ssl.ca ? 'TLS trusting the configured CA certificate(s)' : 'TLS trusting the system CAs');
    if (security.ssl.cert) parts.push('with a client certificate');
    if (security.ssl.checkServerIdentity) parts.push('without host name verification');
  }
  return parts.join(', ');
}

function errorChain(error: unknown): Array<{ name?: string; message?: string; code?: string }> {
  const chain: Array<{ name?: string; message?: string; code?: string }> = [];
  let e = error as { name?: string; message?: string; code?: string; cause?: unknown; originalError?: unknown } | undefined;
  while (e && typeof e === 'object' && chain.length < 8) {
    chain.push(e);
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return chain;
}

/** Certificate checks of the broker's certificate that failed on our side (Node/OpenSSL wording). */
const UNTRUSTED = /self[- ]signed certificate|unable to (get|verify)|certificate (has expired|is not yet valid)|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID|CERT_|certificate signature failure/i;
/** The broker refused our certificate (or its absence) during the handshake. */
const REFUSED_CERT = /alert (bad certificate|certificate required|unknown ca|certificate unknown)/i;

/**
 * A non-retriable, explained error when connecting failed because of the security settings (SASL login refused,
 * broker certificate not trusted, client certificate refused); a hint added for a TLS listener spoken to in plain
 * text; undefined when the failure is not about security. Messages hold no secrets (kafkajs' never quote them).
 */
export function securityFailure(brokers: string[], error: unknown, security?: KafkaSecurity): ConnectError | undefined {
  const chain = errorChain(error);
  const at = brokers.join(',');
  const sasl = chain.find((e) => e.name === 'KafkaJSSASLAuthenticationError');
  if (sasl) {
    const who = security?.sasl ? ` (${security.sasl.mechanism.toUpperCase()} as user ${(security.sasl as { username: string }).username})` : '';
    return new ConnectError(`Kafka at ${at} refused the SASL login${who}: ${sasl.message}. Check the username and password in sasl.jaas.config, and that sasl.mechanism is enabled on the broker's listener.`, { code: 'KAFKA_AUTHENTICATION', cause: error });
  }
  const messages = chain.map((e) => `${e.message ?? ''} ${e.code ?? ''}`).join(' ');
  const first = (chain[0]?.message ?? String(error)).split('\n')[0];
  if (UNTRUSTED.test(messages)) {
    return new ConnectError(`TLS: the certificate of Kafka at ${at} is not trusted: ${first}. ssl.truststore.location (or ssl.truststore.certificates) must hold the CA that signed the broker's certificate, and the certificate must name the host in bootstrap.servers (or set ssl.endpoint.identification.algorithm= to skip the host name check).`, { code: 'KAFKA_TLS', cause: error });
  }
  if (REFUSED_CERT.test(messages)) {
    return new ConnectError(`TLS: Kafka at ${at} refused this client's certificate: ${first}. The listener requires a client certificate: set ssl.keystore.location to a PEM file with a private key and a certificate signed by a CA the broker trusts.`, { code: 'KAFKA_TLS', cause: error });
  }
  if (security && !security.ssl && /Closed connection|ECONNRESET/.test(messages)) {
    return new RetriableError(`Kafka at ${at} closed the connection: ${first}. If this listener uses TLS, set security.protocol=SSL or SASL_SSL${security.protocol === 'PLAINTEXT' ? '; if it uses SASL, set security.protocol=SASL_PLAINTEXT' : ''}.`, { code: 'KAFKA_UNREACHABLE', cause: error });
  }
  return undefined;
}
