// Markdown reference of every config key, generated from the schemas (for the README).
import { connectorSchema } from './connector-schema.ts';
import { connectorEnvPrefix, envNameForKey, WORKER_ENV_PREFIX } from './env.ts';
import type { ConfigSchema } from './schema.ts';
import { workerSchema } from './worker-schema.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\n/g, ' ');
}

function code(text: string): string {
  return text === '' ? '""' : `\`${text}\``;
}

function schemaTable(schema: ConfigSchema): string {
  const rows = schema.keys.map((k) => {
    const dflt = k.required ? '*required*' : k.default === undefined ? '*unset*' : code(k.default);
    return `| \`${k.name}\` | ${k.format.type} | ${dflt} | ${cell(k.format.describe)} | ${cell(k.doc)} |`;
  });
  const prefixes = schema.prefixes.map((p) => `| \`${p.prefix}*\` | ${cell(p.doc)} |`);
  const notSupported = (schema.notSupported ?? []).map((n) => `| \`${n.key.endsWith('.') ? `${n.key}*` : n.key}\` | ${cell(n.reason)} |`);
  return [
    '| Key | Type | Default | Valid values | Description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Pass-through prefixes (not validated here, handed on as a map):',
    '',
    '| Prefix | Description |',
    '|---|---|',
    ...prefixes,
    ...(notSupported.length === 0 ? [] : [
      '',
      'Kafka Connect keys that are not taken (reported as errors, with the reason):',
      '',
      '| Key | Reason |',
      '|---|---|',
      ...notSupported,
    ]),
  ].join('\n');
}

/** Documentation of all worker and connector keys, the file rules and the environment overrides, as Markdown. */
export function configDocsMarkdown(): string {
  return [
    '## Configuration',
    '',
    'pika-connect reads one worker file and one file per connector, in Java `.properties` syntax '
      + '(`key=value`, `key: value` or `key value`; `#` and `!` start comments; a trailing `\\` continues the line; '
      + '`\\uXXXX` escapes). Files are read as UTF-8. A line starting with `;` is a key, not a comment, as in Java. '
      + 'Every problem of a file is reported at once, with file, line and key. Unknown keys and keys set twice are errors.',
    '',
    '### Environment overrides',
    '',
    `Worker keys: \`${WORKER_ENV_PREFIX}\` + the key upper-cased with \`.\` → \`_\`, \`-\` → \`__\`, \`_\` → \`___\` `
      + `(e.g. \`${envNameForKey(WORKER_ENV_PREFIX, 'bootstrap.servers')}\`). Connector keys: `
      + '`CONNECTOR_<NAME>_` + the key encoded the same way, where `<NAME>` is the connector name upper-cased with every '
      + `character other than A-Z and 0-9 replaced by \`_\` (e.g. \`${envNameForKey(connectorEnvPrefix('pika-source'), 'pika.host')}\`). `
      + 'A variable with such a prefix that names no known key is an error. The connector `name` cannot be overridden.',
    '',
    '### Worker',
    '',
    schemaTable(workerSchema),
    '',
    '### Connector (keys owned by the runtime)',
    '',
    'Every other key of a connector file belongs to the connector plugin named by `connector.class`.',
    '',
    schemaTable(connectorSchema),
    '',
  ].join('\n');
}
