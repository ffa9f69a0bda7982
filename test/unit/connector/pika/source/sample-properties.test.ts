// The repository's sample connector.properties, loaded as the worker loads it: with the real plugin registry,
// so every Pika key in it is known to the plugin and passes its validation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundledPlugins } from '../../../../../runtime/bundled-plugins.ts';
import { loadConnectorConfig } from '../../../../../runtime/config/index.ts';
import { pikaSourceSettings } from '../../../../../connector/pika/source/config.ts';

const sample = fileURLToPath(new URL('../../../../../connector.properties', import.meta.url));

test('the sample connector.properties validates with the real Pika plugin', () => {
  const registry = bundledPlugins();
  const find = Object.assign((cls: string) => registry.connector(cls), { knownNames: () => registry.connectorNames() });
  const cfg = loadConnectorConfig(sample, find, {});
  assert.equal(cfg.connectorClass, 'io.pika.connect.PikaSourceConnector');
  const settings = pikaSourceSettings(cfg.props);
  assert.equal(settings.sourceId, 'pika-main');
  assert.equal(settings.cluster, 'main');
  assert.equal(settings.snapshotMode, 'initial');
  assert.equal(settings.snapshotOnGap, 'resync');
  assert.equal(settings.rsyncPort, 9221 + 10001);
});
