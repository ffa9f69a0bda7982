// Test helper: the binlog items a real master pushed in a capture, in wire order, with their PB end positions.
import { readFileSync } from 'node:fs';
import { FrameDecoder } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { decodeInnerRequest, decodeInnerResponse, InnerType } from '../../../../../connector/pika/protocol/messages.ts';
import type { BinlogPosition } from '../../../../../connector/pika/binlog/item.ts';
import { loadCapture, sharedDir } from '../protocol/vector-frames.ts';

export interface PushedItem {
  dbName: string;
  bytes: Buffer;
  end: BinlogPosition;
  endTerm: number | undefined;
  endIndex: bigint | undefined;
}

const toPosition = (o: { filenum: number; offset: bigint }): BinlogPosition => ({ filenum: o.filenum, offset: Number(o.offset) });

function streamFrames(captureName: string, dir: 'c2s' | 's2c'): Buffer[] {
  const capture = loadCapture(captureName);
  const file = capture.frames.find((f) => !f.stream_file.startsWith('rsync') && f.dir === dir)!.stream_file;
  const decoder = new FrameDecoder();
  return decoder.push(readFileSync(new URL(file, capture.url)));
}

export function pushedItems(captureName: string): PushedItem[] {
  const out: PushedItem[] = [];
  for (const frame of streamFrames(captureName, 's2c')) {
    const response = decodeInnerResponse(frame);
    if (response.type !== InnerType.kBinlogSync) continue;
    for (const sync of response.binlog_sync ?? []) {
      if (sync.binlog.length === 0) continue; // keepalive
      out.push({
        dbName: sync.slot.db_name,
        bytes: Buffer.from(sync.binlog),
        end: toPosition(sync.binlog_offset),
        endTerm: sync.binlog_offset.term,
        endIndex: sync.binlog_offset.index,
      });
    }
  }
  return out;
}

/** The offset each DB's TrySync asked to resume from (where the pushed stream must start). */
export function trySyncOffsets(captureName: string): Map<string, BinlogPosition> {
  const out = new Map<string, BinlogPosition>();
  for (const frame of streamFrames(captureName, 'c2s')) {
    const request = decodeInnerRequest(frame);
    if (request.try_sync) out.set(request.try_sync.slot.db_name, toPosition(request.try_sync.binlog_offset));
  }
  return out;
}

export interface TsvRow {
  db: string;
  execTime: number;
  term: number;
  logicId: number;
  filenum: number;
  offset: number;
  contentLength: number;
  argc: number;
  argv: string;
}

/** decoded/master_binlog_items.tsv of a vector set, keyed by "<db>/<logic_id>". */
export function tsvRows(vectorSet: string): Map<string, TsvRow> {
  const text = readFileSync(new URL(`${vectorSet}/decoded/master_binlog_items.tsv`, sharedDir), 'utf8');
  const rows = new Map<string, TsvRow>();
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const c = line.split('\t');
    const row: TsvRow = {
      db: c[0]!,
      execTime: Number(c[5]),
      term: Number(c[6]),
      logicId: Number(c[7]),
      filenum: Number(c[8]),
      offset: Number(c[9]),
      contentLength: Number(c[10]),
      argc: Number(c[11]),
      argv: c.slice(12).join('\t'),
    };
    rows.set(`${row.db}/${row.logicId}`, row);
  }
  return rows;
}

/**
 * Renders argv the way the TSV does: at most 6 args, each cut at 40 bytes. The 4.0.1 TSV escapes like Python's
 * bytes repr, marks cuts "..(NB)" and more args " ..."; the 3.5.5 TSV writes every byte outside 0x21..0x7e as
 * \xHH, marks cuts "...(N)" and nothing for more args.
 */
export function renderArgvLikeTsv(argv: Buffer[], style: 'python' | 'hex'): string {
  const escape = (b: Buffer): string => {
    let s = '';
    for (const c of b) {
      if (style === 'hex') s += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
      else if (c === 0x5c) s += '\\\\';
      else if (c === 0x09) s += '\\t';
      else if (c === 0x0a) s += '\\n';
      else if (c === 0x0d) s += '\\r';
      else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
      else s += `\\x${c.toString(16).padStart(2, '0')}`;
    }
    return s;
  };
  const cut = (a: Buffer): string =>
    style === 'python' ? `${escape(a.subarray(0, 40))}..(${a.length}B)` : `${escape(a.subarray(0, 40))}...(${a.length})`;
  const shown = argv.slice(0, 6).map((a) => (a.length > 40 ? cut(a) : escape(a)));
  return shown.join(' ') + (style === 'python' && argv.length > 6 ? ' ...' : '');
}
