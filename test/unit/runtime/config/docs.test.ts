import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDocsMarkdown, connectorSchema, workerSchema } from '../../../../runtime/config/index.ts';

test('the Markdown reference documents every key and prefix with its default', () => {
  const md = configDocsMarkdown();
  for (const schema of [workerSchema, connectorSchema]) {
    for (const key of schema.keys) assert.ok(md.includes(`| \`${key.name}\` |`), `${key.name} is documented`);
    for (const p of schema.prefixes) assert.ok(md.includes(`| \`${p.prefix}*\` |`), `${p.prefix} is documented`);
  }
  assert.match(md, /\| `offset\.flush\.interval\.ms` \| int \| `60000` \|/);
  assert.match(md, /\| `bootstrap\.servers` \| list \| \*required\* \|/);
  assert.match(md, /CONNECTOR_PIKA_SOURCE_PIKA_HOST/);
});
