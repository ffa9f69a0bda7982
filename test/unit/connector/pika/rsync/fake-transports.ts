// Test transports for the rsync2 client: a replay of a recorded server stream, and a small in-memory master.
import { createHash } from 'node:crypto';
import { encodeFrame, FrameDecoder } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import {
  decodeRsyncRequest,
  decodeRsyncResponse,
  encodeRsyncResponse,
  RsyncStatusCode,
  RsyncType,
  type RsyncRequest,
  type RsyncResponse,
  type RsyncResponseInput,
} from '../../../../../connector/pika/protocol/messages.ts';
import type { RsyncTransport } from '../../../../../connector/pika/rsync/transport.ts';

export function splitFrames(bytes: Uint8Array): Buffer[] {
  const d = new FrameDecoder();
  const out = d.push(bytes).map((p) => Buffer.from(p));
  d.end();
  return out;
}

/**
 * A transport whose server side is a function from request to replies (zero or more frames). Replies are
 * delivered asynchronously, each frame cut in two at a varying position to exercise the client's reassembly.
 */
export class ScriptedTransport implements RsyncTransport {
  readonly requests: { req: RsyncRequest; bytes: Buffer }[] = [];
  private dataListener: (chunk: Uint8Array) => void = () => {};
  private closeListener: (err?: Error) => void = () => {};
  private closed = false;
  private cut = 1;

  constructor(private readonly answer: (req: RsyncRequest, transport: ScriptedTransport) => Buffer[] | 'crash') {}

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    for (const payload of splitFrames(bytes)) {
      const req = decodeRsyncRequest(payload);
      this.requests.push({ req, bytes: payload });
      const frames = this.answer(req, this);
      if (frames === 'crash') {
        setImmediate(() => this.end(new Error('simulated crash')));
        return;
      }
      for (const f of frames) {
        const at = Math.min(f.length, this.cut++ % 37);
        setImmediate(() => {
          if (this.closed) return;
          this.dataListener(f.subarray(0, at));
          this.dataListener(f.subarray(at));
        });
      }
    }
  }
  onData(listener: (chunk: Uint8Array) => void): void {
    this.dataListener = listener;
  }
  onClose(listener: (err?: Error) => void): void {
    this.closeListener = listener;
  }
  close(): void {
    this.end();
  }
  private end(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeListener(err);
  }
}

const fileKey = (name: string, offset: bigint) => `${name}@${offset}`;

/**
 * Replays a recorded rsync2 server stream: meta requests get the recorded meta replies in order (the last one
 * repeated afterwards); a file request gets the recorded reply for the same (filename, offset) — the recorded
 * bytes as they are when our reader_index equals the recorded one, else re-encoded with our reader_index.
 */
export function recordedServer(s2c: Uint8Array) {
  const metas: Buffer[] = [];
  const files = new Map<string, { raw: Buffer; resp: RsyncResponse }>();
  for (const raw of splitFrames(s2c)) {
    const resp = decodeRsyncResponse(raw);
    if (resp.type === RsyncType.kRsyncMeta) metas.push(raw);
    else files.set(fileKey(resp.file_resp!.filename, resp.file_resp!.offset), { raw, resp });
  }
  let metaIndex = 0;
  const stats = { reencoded: 0, verbatim: 0 };
  const answer = (req: RsyncRequest): Buffer[] => {
    if (req.type === RsyncType.kRsyncMeta) return [encodeFrame(metas[Math.min(metaIndex++, metas.length - 1)]!)];
    const hit = files.get(fileKey(req.file_req!.filename, req.file_req!.offset));
    if (!hit) throw new Error(`no recorded reply for ${req.file_req!.filename}@${req.file_req!.offset}`);
    if (hit.resp.reader_index === req.reader_index) {
      stats.verbatim++;
      return [encodeFrame(hit.raw)];
    }
    stats.reencoded++;
    return [encodeFrame(encodeRsyncResponse({ ...hit.resp, reader_index: req.reader_index }))];
  };
  return { answer, stats, metaCount: metas.length };
}

/** An in-memory master serving one dump per DB; the dump can be swapped and a bgsave simulated. */
export class FakeMaster {
  files: Map<string, Buffer>;
  uuid: string;
  /** Meta requests still answered kErr (bgsave running). */
  bgsaveReplies = 0;
  /** Meta requests still left unanswered (3.5.0–3.5.2 behaviour during a bgsave). */
  silentMetaReplies = 0;
  /** Called before each file reply; may swap the dump or crash the connection. */
  beforeFileReply: (req: RsyncRequest) => 'crash' | void = () => {};

  constructor(files: Record<string, Buffer>, readonly db = 'db0') {
    this.files = new Map(Object.entries(files));
    this.uuid = md5(this.files.get('info')!);
  }

  replace(files: Record<string, Buffer>): void {
    this.files = new Map(Object.entries(files));
    this.uuid = md5(this.files.get('info')!);
  }

  answer = (req: RsyncRequest): Buffer[] | 'crash' => {
    const base = { type: req.type, reader_index: req.reader_index, db_name: req.db_name, slot_id: 0 };
    const reply = (r: RsyncResponseInput) => [encodeFrame(encodeRsyncResponse(r))];
    if (req.type === RsyncType.kRsyncMeta) {
      if (this.silentMetaReplies > 0) {
        this.silentMetaReplies--;
        return [];
      }
      if (this.bgsaveReplies > 0) {
        this.bgsaveReplies--;
        return reply({ ...base, snapshot_uuid: '', code: RsyncStatusCode.kErr });
      }
      return reply({ ...base, snapshot_uuid: this.uuid, code: RsyncStatusCode.kOk, meta_resp: { filenames: [...this.files.keys()] } });
    }
    if (this.beforeFileReply(req) === 'crash') return 'crash';
    const f = req.file_req!;
    const data = this.files.get(f.filename);
    if (!data) return reply({ ...base, snapshot_uuid: this.uuid, code: RsyncStatusCode.kErr });
    const offset = Number(f.offset);
    const chunk = data.subarray(offset, Math.min(data.length, offset + Number(f.count)));
    return reply({
      ...base,
      snapshot_uuid: this.uuid,
      code: RsyncStatusCode.kOk,
      file_resp: { eof: offset + chunk.length === data.length ? 1 : 0, count: chunk.length, offset, data: chunk, checksum: '', filename: f.filename },
    });
  };
}

export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
