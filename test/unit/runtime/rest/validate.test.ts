import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConnectorConfig } from '../../../../runtime/rest/config-infos.ts';
import { bundledPlugins } from '../../../../runtime/bundled-plugins.ts';

test('validate: Kafka Connect ConfigInfos shape with every error at its key and secrets hidden', () => {
  const infos = validateConnectorConfig(bundledPlugins(), 'synthetic', {
    'connector.class': 'synthetic',
    'tasks.max': 'zero',
    'synthetic.rate': '-1',
    'synthetic.topic': 'ok-topic',
    'producer.override.sasl.jaas.config': 'secret-jaas',
    'no.such.key': 'x',
  });
  assert.equal(infos.name, 'io.pika.connect.SyntheticSourceConnector');
  assert.ok(infos.groups.includes('Common'));
  const byName = new Map(infos.configs.map((c) => [c.value.name, c]));
  const errors = infos.configs.flatMap((c) => c.value.errors.map((e) => `${c.value.name}: ${e}`));
  assert.equal(infos.error_count, errors.length, 'error_count counts every listed error');
  assert.match(byName.get('name')!.value.errors.join(), /required key is missing/);
  assert.match(byName.get('tasks.max')!.value.errors.join(), /positive integer/);
  assert.equal(byName.get('tasks.max')!.definition.type, 'INT');
  assert.equal(byName.get('tasks.max')!.definition.default_value, '1');
  assert.match(byName.get('synthetic.rate')!.value.errors.join(), /integer ≥ 0/);
  assert.match(byName.get('no.such.key')!.value.errors.join(), /unknown connector key/);
  assert.deepEqual(byName.get('synthetic.topic')!.value.errors, []);
  assert.equal(byName.get('synthetic.topic')!.value.value, 'ok-topic');
  const secret = byName.get('producer.override.sasl.jaas.config')!;
  assert.equal(secret.value.value, '[hidden]');
  assert.equal(secret.definition.type, 'PASSWORD');
  assert.ok(!JSON.stringify(infos).includes('secret-jaas'));
  for (const c of infos.configs) {
    for (const key of ['name', 'type', 'required', 'default_value', 'importance', 'documentation', 'group', 'width', 'display_name', 'dependents', 'order']) {
      assert.ok(key in c.definition, `definition of ${c.definition.name} has ${key}`);
    }
  }
});

test('validate: a valid config has no errors', () => {
  const infos = validateConnectorConfig(bundledPlugins(), 'synthetic', { name: 'a', 'connector.class': 'synthetic', 'synthetic.rate': '5' });
  assert.equal(infos.error_count, 0);
});
