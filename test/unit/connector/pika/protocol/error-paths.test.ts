// The real 4.0.1 master's error-path vectors (pika-vectors-errors): every captured frame decodes as the probe's
// own decoder saw it; the requests the master rejected as malformed are rejected by our strict decoder too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  decodeInnerRequest,
  decodeInnerResponse,
  decodeRsyncRequest,
  decodeRsyncResponse,
  InnerType,
  PikaProtocolError,
  RsyncType,
  StatusCode,
  RsyncStatusCode,
  TrySyncReplyCode,
} from '../../../../../connector/pika/protocol/messages.ts';
import { FrameDecoder } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { sharedDir } from './vector-frames.ts';

interface CaseEvent {
  conn: string;
  event?: string;
  kind?: 'repl' | 'rsync';
  dir?: 'c2s' | 's2c';
  file?: string;
  frame_len?: number;
  msg?: Record<string, unknown>;
}
interface Case {
  n: number;
  name: string;
  dir: string;
  events: CaseEvent[];
}

const root = new URL('pika-vectors-errors/', sharedDir);
const index = JSON.parse(readFileSync(new URL('index.json', root), 'utf8')) as { cases: Case[] };
/** Requests Pika's own parser rejected (no type, MetaSync without node, garbage, type=99). */
const MALFORMED_REQUEST_CASES = new Set([14, 15, 20, 21]);

const nameOf = (values: Record<string, number>, v: unknown): string | undefined =>
  Object.entries(values).find(([, n]) => n === v)?.[0];

test('pika-vectors-errors: every frame decodes like the probe saw it; malformed requests are rejected', () => {
  const kinds = new Map<string, 'repl' | 'rsync'>();
  let frames = 0;
  for (const c of index.cases) {
    for (const e of c.events) {
      if (e.event === 'connect' && e.kind) kinds.set(e.conn, e.kind);
      if (!e.file || !e.dir || !e.msg) continue;
      const where = `case ${c.n} ${c.name} ${e.file}`;
      const raw = readFileSync(new URL(`${c.dir}/${e.file}`, root));
      const payloads = new FrameDecoder().push(raw);
      assert.equal(payloads.length, 1, `${where}: one frame per file`);
      const payload = payloads[0]!;
      assert.equal(payload.length + 4, e.frame_len ?? raw.length, where);
      const rsync = kinds.get(e.conn) === 'rsync';
      if (e.dir === 'c2s' && MALFORMED_REQUEST_CASES.has(c.n)) {
        assert.throws(() => (rsync ? decodeRsyncRequest(payload) : decodeInnerRequest(payload)), PikaProtocolError, where);
        frames++;
        continue;
      }
      const msg = e.msg;
      if (rsync) {
        const decoded = e.dir === 'c2s' ? decodeRsyncRequest(payload) : decodeRsyncResponse(payload);
        assert.equal(nameOf(RsyncType, decoded.type), msg.type, where);
        if ('code' in decoded) assert.equal(nameOf(RsyncStatusCode, decoded.code), msg.code, where);
      } else if (e.dir === 'c2s') {
        assert.equal(nameOf(InnerType, decodeInnerRequest(payload).type), msg.type, where);
      } else {
        const decoded = decodeInnerResponse(payload);
        assert.equal(nameOf(InnerType, decoded.type), msg.type, where);
        assert.equal(nameOf(StatusCode, decoded.code), msg.code, where);
        assert.equal(decoded.reply, msg.reply, where);
        const trySync = msg.try_sync as { reply_code?: string } | undefined;
        if (trySync) assert.equal(nameOf(TrySyncReplyCode, decoded.try_sync?.reply_code), trySync.reply_code, where);
      }
      frames++;
    }
  }
  assert.ok(frames > 50, `${frames} frames checked`);
});
