import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRespCommand, parseRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';

const parse = (text: string): string[] => parseRespCommand(Buffer.from(text, 'latin1')).map((b) => b.toString('latin1'));

test('parses an array of bulk strings, binary-safe, empty strings included', () => {
  assert.deepEqual(parse('*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n'), ['set', 'k', 'v']);
  assert.deepEqual(parse('*2\r\n$3\r\ndel\r\n$0\r\n\r\n'), ['del', '']);
  const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x24]);
  const args = parseRespCommand(encodeRespCommand([Buffer.from('set'), binary, Buffer.from('\r\n')]));
  assert.ok(args[1]!.equals(binary));
  assert.equal(args[2]!.toString(), '\r\n');
});

test('rejects what a Pika master never writes, naming the byte offset', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /content is empty/],
    ['set k v\r\n', /at byte 0: expected '\*'/],
    ['*0\r\n', /no elements/],
    ['*-1\r\n', /array length contains '-'/],
    ['*2\r\n$3\r\nset\r\n', /claims 2 elements but only 9 bytes follow/],
    ['*1\r\n:12345\r\n', /at byte 4: element 1 of 1: expected '\$'/],
    ['*1\r\n$-1\r\n\r\n', /element 1 length contains '-'/],
    ['*1\r\n$3\r\nab\r\n', /claims 3 bytes but only 4 remain|not followed by CRLF/],
    ['*1\r\n$2\r\nabc\r\n', /not followed by CRLF/],
    ['*1\r\n$1\r\na\r\nextra', /5 unexpected bytes after the command/],
    ['*1\n$1\r\na\r\n', /contains byte 0x0a/],
    ['*1\r$1\r\na\r\n', /CR without LF/],
    ['*1\r\n$99999999999999999\r\na\r\n', /more than 15 digits/],
    ['*1\r\n$123456', /not terminated by CRLF/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(
      () => parse(input),
      (err: unknown) => err instanceof PikaProtocolError && pattern.test(err.message),
      JSON.stringify(input),
    );
  }
});

test('a forged huge element count fails before allocating anything', () => {
  assert.throws(() => parse('*999999999999999\r\n$1\r\na\r\n'), /claims 999999999999999 elements/);
});
