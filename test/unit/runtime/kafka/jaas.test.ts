import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJaasConfig } from '../../../../runtime/kafka/jaas.ts';

test('the PlainLoginModule and ScramLoginModule forms Kafka documents parse to module, flag and options', () => {
  assert.deepEqual(
    parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";'),
    { loginModule: 'org.apache.kafka.common.security.plain.PlainLoginModule', controlFlag: 'required', options: { username: 'alice', password: 'alice-secret' } },
  );
  assert.deepEqual(
    parseJaasConfig('  org.apache.kafka.common.security.scram.ScramLoginModule REQUIRED\n  username=bob\n  password="p w;\\"x\\\\";  '),
    { loginModule: 'org.apache.kafka.common.security.scram.ScramLoginModule', controlFlag: 'required', options: { username: 'bob', password: 'p w;"x\\' } },
  );
});

test('malformed values are refused with what is wrong, never quoting a value', () => {
  const cases: Array<[string, RegExp]> = [
    ['org.x.Module required username="a" password="s3cret"', /must end with ";"/],
    ['org.x.Module username="a";', /control flag must be required, requisite, sufficient or optional/],
    ['org.x.Module required username="a" password="s3cret', /not closed/],
    ['org.x.Module required username "a";', /must be written username="value"/],
    ['org.x.Module required password="s3cret" password="s3cret";', /given twice/],
    ['a.A required; b.B required;', /exactly one login module, found 2/],
    ['', /exactly one login module, found 0/],
  ];
  for (const [value, expected] of cases) {
    assert.throws(() => parseJaasConfig(value), (error: Error) => {
      assert.match(error.message, expected, value);
      assert.ok(!error.message.includes('s3cret'), `no secret in: ${error.message}`);
      return true;
    });
  }
});
