import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectorEnvPrefix, envNameForKey, keyForEnvSuffix } from '../../../../runtime/config/env.ts';

test('environment names follow the Confluent image rule and decode back to the key', () => {
  const cases = [
    ['bootstrap.servers', 'CONNECT_BOOTSTRAP_SERVERS'],
    ['offset.flush.interval.ms', 'CONNECT_OFFSET_FLUSH_INTERVAL_MS'],
    ['producer.max-in-flight', 'CONNECT_PRODUCER_MAX__IN__FLIGHT'],
    ['some_key.x', 'CONNECT_SOME___KEY_X'],
  ] as const;
  for (const [key, name] of cases) {
    assert.equal(envNameForKey('CONNECT_', key), name);
    assert.equal(keyForEnvSuffix(name.slice('CONNECT_'.length)), key);
  }
});

test('connector prefixes upper-case the name and turn other characters into underscores', () => {
  assert.equal(connectorEnvPrefix('pika-source'), 'CONNECTOR_PIKA_SOURCE_');
  assert.equal(connectorEnvPrefix('db.0_main'), 'CONNECTOR_DB_0_MAIN_');
  assert.equal(envNameForKey(connectorEnvPrefix('pika-source'), 'pika.host'), 'CONNECTOR_PIKA_SOURCE_PIKA_HOST');
});
