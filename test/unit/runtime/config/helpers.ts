// Shared helpers of the config tests: temporary files and the one ConfigError a loader throws.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorPlugin, SourceConnector } from '../../../../runtime/api/connector.ts';
import { ConfigError } from '../../../../runtime/api/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'pika-connect-config-'));

/** Writes `lines` (joined with \n) to a fresh file and returns its path. */
export function writeProps(name: string, lines: string[] | string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, Array.isArray(lines) ? `${lines.join('\n')}\n` : lines);
  return file;
}

/** Runs `fn`, asserts it throws a ConfigError, returns its problems. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}

/** A stand-in Pika plugin: documents three keys; requires pika.host, and pika.port to be a number. */
export const fakePikaPlugin: ConnectorPlugin = {
  names: ['io.pika.connect.PikaSourceConnector', 'PikaSource'],
  create(): SourceConnector {
    return {
      configKeys: () => ['pika.host', 'pika.port', 'pika.password', 'filter.*'],
      validate(config) {
        const issues = [];
        if (!config['pika.host']) issues.push({ key: 'pika.host', message: 'required: address of the Pika master' });
        if (config['pika.port'] !== undefined && !/^\d+$/.test(config['pika.port'])) {
          issues.push({ key: 'pika.port', message: 'must be a port number' });
        }
        return issues;
      },
      start: async () => {},
      taskConfigs: () => [],
      createTask: () => { throw new Error('not used'); },
      stop: async () => {},
      version: () => 'test',
    };
  },
};
