import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../../runtime/api/errors.ts';
import { parseWorkerProps } from '../../../../runtime/config/index.ts';
import { describeSecurity, kafkaSecurity, securityFailure, securityProblems } from '../../../../runtime/kafka/security.ts';
import { tempDir } from '../../../helpers/worker-process.ts';

const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-s3cret";';
const SCRAM_JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-s3cret";';
const KEY_PASSWORD = 'key-s3cret';
const SECRETS = ['alice-s3cret', KEY_PASSWORD];

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function assertNoSecret(text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `a secret leaked into: ${text}`);
}

test('SASL_PLAINTEXT maps sasl.mechanism and the JAAS credentials onto kafkajs, case-insensitively', () => {
  const security = kafkaSecurity({ 'security.protocol': 'sasl_plaintext', 'sasl.mechanism': 'scram-sha-256', 'sasl.jaas.config': SCRAM_JAAS });
  assert.deepEqual(security, { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-s3cret' } });
  assert.equal(describeSecurity(security), 'SASL_PLAINTEXT, SCRAM-SHA-256 as user alice');
  assert.deepEqual(kafkaSecurity({}), { protocol: 'PLAINTEXT' });
});

test('every problem of the security settings is listed at once, naming the key and never a secret', () => {
  const problems = securityProblems({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': SCRAM_JAAS,
    'ssl.truststore.location': '/nonexistent/ca.pem',
    'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256',
    'ssl.key.password': KEY_PASSWORD,
  }, 'w.properties');
  assert.deepEqual(problems, [
    'w.properties ssl.cipher.suites: not supported by pika-connect; supported TLS settings: ssl.truststore.location, ssl.truststore.type, ssl.truststore.certificates, ssl.keystore.location, ssl.keystore.type, ssl.keystore.key, ssl.keystore.certificate.chain, ssl.key.password, ssl.endpoint.identification.algorithm',
    'w.properties ssl.truststore.location: cannot read /nonexistent/ca.pem (no such file)',
    'w.properties ssl.key.password: is set but there is no key: set ssl.keystore.location too',
    'w.properties sasl.jaas.config: sasl.mechanism=PLAIN takes the login module org.apache.kafka.common.security.plain.PlainLoginModule, got org.apache.kafka.common.security.scram.ScramLoginModule',
  ]);
  problems.forEach(assertNoSecret);
});

test('SASL needs a supported mechanism and credentials; TLS and SASL keys without the protocol that uses them are refused', () => {
  assert.deepEqual(securityProblems({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.jaas.config': PLAIN_JAAS }), [
    'worker config sasl.mechanism: required with a SASL security.protocol (Kafka\'s default GSSAPI/Kerberos is not supported); one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512',
  ]);
  assert.match(securityProblems({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'GSSAPI', 'sasl.jaas.config': PLAIN_JAAS })[0]!, /sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, got "GSSAPI"/);
  assert.match(securityProblems({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN' })[0]!, /sasl.jaas.config: required for sasl.mechanism=PLAIN/);
  const broken = securityProblems({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required password="alice-s3cret' });
  assert.match(broken[0]!, /sasl.jaas.config: cannot be parsed: a quoted value is not closed/);
  broken.forEach(assertNoSecret);
  assert.deepEqual(securityProblems({ 'sasl.mechanism': 'PLAIN', 'ssl.truststore.location': '/x.pem' }), [
    'worker config sasl.mechanism: has no effect with security.protocol=PLAINTEXT; set security.protocol to SASL_PLAINTEXT or SASL_SSL, or remove it',
    'worker config ssl.truststore.location: has no effect with security.protocol=PLAINTEXT; set security.protocol to SSL or SASL_SSL, or remove it',
  ]);
});

test('worker config validation refuses JKS/PKCS12 store types and unsupported TLS keys with the way out', () => {
  assert.throws(() => parseWorkerProps({
    'bootstrap.servers': 'b:9093', 'security.protocol': 'SSL', 'ssl.keystore.type': 'JKS', 'ssl.truststore.type': 'pkcs12',
    'ssl.truststore.password': 'store-s3cret', 'ssl.protocol': 'TLSv1.3', 'sasl.mechanism': 'OAUTHBEARER',
  }), (error: ConfigError) => {
    const text = error.problems.join('\n');
    assert.match(text, /ssl.keystore.type: must be one of PEM \(JKS and PKCS12 key stores are not supported: ssl.keystore.location must point to a PEM file holding the private key followed by its certificate chain/);
    assert.match(text, /ssl.truststore.type: must be one of PEM \(JKS and PKCS12 trust stores are not supported: export the CA certificate\(s\) as PEM \(keytool -exportcert -rfc/);
    assert.match(text, /ssl.truststore.password: unknown worker key; not supported by pika-connect: trust stores are PEM files, which have no password/);
    assert.match(text, /ssl.protocol: unknown worker key; not supported by pika-connect: supported TLS settings: ssl.truststore.location,/);
    assert.match(text, /sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 \(GSSAPI \(Kerberos\) and OAUTHBEARER are not supported\)/);
    assert.ok(!text.includes('store-s3cret'));
    return true;
  });
});

test('login refusals and TLS failures from kafkajs become non-retriable errors naming the setting to fix', () => {
  const security = kafkaSecurity({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': PLAIN_JAAS });
  const sasl = Object.assign(new Error('SASL PLAIN authentication failed: Authentication failed: Invalid username or password'), { name: 'KafkaJSSASLAuthenticationError' });
  const refused = securityFailure(['k:9094'], sasl, security)!;
  assert.equal(refused.code, 'KAFKA_AUTHENTICATION');
  assert.match(refused.message, /^Kafka at k:9094 refused the SASL login \(PLAIN as user alice\): .*Check the username and password in sasl.jaas.config/);
  assertNoSecret(refused.message);
  const tls = securityFailure(['k:9093'], Object.assign(new Error('Connection error: unable to verify the first certificate'), { name: 'KafkaJSNumberOfRetriesExceeded' }));
  assert.equal(tls?.code, 'KAFKA_TLS');
  assert.match(tls!.message, /certificate of Kafka at k:9093 is not trusted/);
  assert.equal(securityFailure(['k:9092'], new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092')), undefined);
});

describe('PEM trust and key material', { skip: hasOpenssl() ? false : 'skipped: openssl is not installed' }, () => {
  let dir: string;
  before(() => {
    dir = tempDir('pc-sec-unit-');
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=unit CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    run('pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', 'ca.key', '-passout', `pass:${KEY_PASSWORD}`, '-out', 'enc.key');
    writeFileSync(join(dir, 'keystore.pem'), readFileSync(join(dir, 'enc.key'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'));
    writeFileSync(join(dir, 'plain-keystore.pem'), readFileSync(join(dir, 'ca.key'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'));
    writeFileSync(join(dir, 'store.jks'), Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
  });

  test('a PEM trust store and an encrypted PEM key store become ca, key, cert and passphrase', () => {
    const security = kafkaSecurity({
      'security.protocol': 'SSL', 'ssl.truststore.location': join(dir, 'ca.pem'), 'ssl.truststore.type': 'pem',
      'ssl.keystore.location': join(dir, 'keystore.pem'), 'ssl.key.password': KEY_PASSWORD,
    });
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    assert.deepEqual(security.ssl?.ca, [ca.endsWith('\n') ? ca : `${ca}\n`]);
    assert.match(String(security.ssl?.key), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.match(String(security.ssl?.cert), /^-----BEGIN CERTIFICATE-----/);
    assert.equal(security.ssl?.passphrase, KEY_PASSWORD);
    assert.equal(security.ssl?.rejectUnauthorized, true);
    assert.equal(security.ssl?.checkServerIdentity, undefined, 'host names are checked by default');
    assertNoSecret(describeSecurity(security));
    const inline = kafkaSecurity({
      'security.protocol': 'SSL', 'ssl.truststore.certificates': ca, 'ssl.endpoint.identification.algorithm': '',
      'ssl.keystore.key': readFileSync(join(dir, 'ca.key'), 'utf8'), 'ssl.keystore.certificate.chain': ca,
    });
    assert.equal(typeof inline.ssl?.checkServerIdentity, 'function');
    assert.equal(inline.ssl!.checkServerIdentity!('other.example', {} as never), undefined, 'an empty algorithm turns the host name check off');
    assert.match(String(inline.ssl?.key), /^-----BEGIN PRIVATE KEY-----/);
  });

  test('a JKS file, a wrong or missing key password, and a key store without a key are named', () => {
    const problems = (props: Record<string, string>) => securityProblems({ 'security.protocol': 'SSL', ...props });
    assert.match(problems({ 'ssl.truststore.location': join(dir, 'store.jks') })[0]!, /ssl.truststore.location: .*store.jks holds no PEM certificate .*keytool -exportcert -rfc/);
    assert.match(problems({ 'ssl.keystore.location': join(dir, 'store.jks') })[0]!, /ssl.keystore.location: .*store.jks is not a PEM file .*JKS and PKCS12 key stores are not supported/);
    const wrong = problems({ 'ssl.keystore.location': join(dir, 'keystore.pem'), 'ssl.key.password': 'not-it' });
    assert.match(wrong[0]!, /ssl.key.password: does not decrypt the private key in .*keystore.pem/);
    assert.match(problems({ 'ssl.keystore.location': join(dir, 'keystore.pem') })[0]!, /ssl.key.password: required: the private key in .*keystore.pem is encrypted/);
    assert.match(problems({ 'ssl.keystore.location': join(dir, 'ca.pem') }).join('\n'), /must hold exactly one PEM private key .*found 0/);
    assert.deepEqual(problems({ 'ssl.keystore.location': join(dir, 'plain-keystore.pem') }), []);
  });
});
