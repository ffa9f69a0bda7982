import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConnectorPlugin } from '../../../../runtime/api/connector.ts';
import { loadConnectorConfig, loadWorkerConfig, pluginLookup } from '../../../../runtime/config/index.ts';
import { fakePikaPlugin } from './helpers.ts';

const repo = new URL('../../../../', import.meta.url);

test('the sample worker file in config/ is valid', () => {
  const cfg = loadWorkerConfig(fileURLToPath(new URL('config/worker.properties', repo)), {});
  assert.deepEqual(cfg.bootstrapServers, ['127.0.0.1:19092']);
  assert.equal(cfg.offsetStorageTopic, 'connect-offsets');
  assert.equal(cfg.exactlyOnceSourceSupport, 'enabled');
});

test('the sample connector.properties is valid for the runtime (Pika keys as documented in the brief)', () => {
  const pikaKeys = ['pika.host', 'pika.port', 'pika.password', 'pika.dbs', 'source.id', 'cluster', 'stream.mode', 'snapshot.mode', 'snapshot.on.gap'];
  const plugin: ConnectorPlugin = { ...fakePikaPlugin, create: () => ({ ...fakePikaPlugin.create(), configKeys: () => pikaKeys }) };
  const cfg = loadConnectorConfig(fileURLToPath(new URL('connector.properties', repo)), pluginLookup([plugin]), {});
  assert.equal(cfg.name, 'pika-source');
  assert.equal(cfg.connectorClass, 'io.pika.connect.PikaSourceConnector');
  assert.equal(cfg.props['pika.port'], '9221');
});
