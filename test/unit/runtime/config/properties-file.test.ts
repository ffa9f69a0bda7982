import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parsePropertiesText, readPropertiesFile } from '../../../../runtime/config/properties-file.ts';
import { formatProblem } from '../../../../runtime/config/problems.ts';
import { problemsOf, writeProps } from './helpers.ts';

const fixtures = new URL('./fixtures/', import.meta.url);

function valuesOf(file: URL) {
  const parsed = readPropertiesFile(fileURLToPath(file));
  return Object.fromEntries([...parsed.entries.values()].map((e) => [e.key, e.value]));
}

test('parses like java.util.Properties (expected values produced by Java 17)', () => {
  for (const name of ['tricky', 'crlf']) {
    const expected = JSON.parse(readFileSync(new URL(`${name}.expected.json`, fixtures), 'utf8'));
    assert.deepEqual(valuesOf(new URL(`${name}.properties`, fixtures)), expected, name);
  }
});

test('a key set twice keeps the last value, as Java, and is reported with both lines', () => {
  const parsed = parsePropertiesText('a=1\nb=2\na=3\n', 'x.properties');
  assert.equal(parsed.entries.get('a')?.value, '3');
  assert.deepEqual(parsed.problems.map(formatProblem), ['x.properties:3 a: set twice (also on line 1); remove one']);
});

test('line numbers: comments, blank lines, continuations (first line reported), CRLF and lone CR', () => {
  const text = '# c\n\nfirst=1\nsecond = a \\\n  b \\\n  c\nthird=3\r\nfourth=4\rfifth=5';
  const parsed = parsePropertiesText(text, 'f');
  const lines = Object.fromEntries([...parsed.entries.values()].map((e) => [e.key, e.origin.kind === 'file' ? e.origin.line : -1]));
  assert.deepEqual(lines, { first: 3, second: 4, third: 7, fourth: 8, fifth: 9 });
  assert.equal(parsed.entries.get('second')?.value, 'a b c');
});

test('a malformed \\u escape is reported for its key instead of being kept as text', () => {
  const parsed = parsePropertiesText('ok=\\u0041\nbad=x\\u00zz\n', 'f.properties');
  assert.equal(parsed.entries.get('ok')?.value, 'A');
  assert.deepEqual(parsed.problems.map(formatProblem), ['f.properties:2 bad: malformed \\u escape in the value: "\\u00zz"']);
});

test('an escaped backslash before u is not an escape', () => {
  const parsed = parsePropertiesText('path=c:\\\\users\n', 'f');
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.entries.get('path')?.value, 'c:\\users');
});

test('a line with an empty key is reported', () => {
  const parsed = parsePropertiesText('=orphan\n', 'f');
  assert.deepEqual(parsed.problems.map(formatProblem), ['f:1: empty key (the line starts with "=" or ":")']);
});

test('a UTF-8 byte-order mark is skipped; invalid UTF-8 is reported with its line', () => {
  const bom = writeProps('bom.properties', Buffer.from('\ufeffname=x\n', 'utf8'));
  assert.deepEqual([...readPropertiesFile(bom).entries.keys()], ['name']);
  const latin1 = writeProps('latin1.properties', Buffer.concat([Buffer.from('a=1\nb=caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  assert.deepEqual(readPropertiesFile(latin1).problems.map(formatProblem), [`${latin1}:2: not valid UTF-8 text`]);
});

test('a file that cannot be read gives a ConfigError naming the path and the OS reason', () => {
  const missing = writeProps('exists.properties', 'a=1\n').replace('exists', 'missing');
  assert.deepEqual(problemsOf(() => readPropertiesFile(missing)), [
    `${missing}: cannot read the file (ENOENT: no such file or directory)`,
  ]);
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const [problem] = problemsOf(() => readPropertiesFile(dir));
  assert.match(problem ?? '', /cannot read the file \(EISDIR/);
});
