// Test helper: the captured PB frames of the shared Pika vectors, as listed by decoded/*/frames_index.jsonl.
import { existsSync, readFileSync } from 'node:fs';

export const sharedDir = new URL('../../../../../../shared/', import.meta.url);

export interface IndexedFrame {
  conn: string;
  dir: 'c2s' | 's2c';
  i: number;
  stream_file: string;
  /** Offset of the 4-byte length prefix in the stream file. */
  stream_offset: number;
  /** Payload length (without the prefix). */
  len: number;
  type: string;
  detail: string;
}

export interface CaptureDir {
  /** e.g. "pika-vectors/decoded/repl" */
  name: string;
  url: URL;
  frames: IndexedFrame[];
}

export const CAPTURES = [
  'pika-vectors/decoded/repl',
  'pika-vectors/decoded/repl_psetex_stall',
  'pika-vectors-3.5.5/decoded/repl',
  'pika-vectors-3.5.5/decoded/repl_phase3_psetex',
];

export function loadCapture(name: string): CaptureDir {
  const url = new URL(`${name}/`, sharedDir);
  const index = new URL('frames_index.jsonl', url);
  if (!existsSync(index)) throw new Error(`test vectors missing: ${index.pathname}`);
  const frames = readFileSync(index, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as IndexedFrame);
  return { name, url, frames };
}

const streams = new Map<string, Buffer>();
export function readStream(capture: CaptureDir, file: string): Buffer {
  const key = new URL(file, capture.url).href;
  let bytes = streams.get(key);
  if (!bytes) {
    bytes = readFileSync(new URL(file, capture.url));
    streams.set(key, bytes);
  }
  return bytes;
}

export function framePayload(capture: CaptureDir, frame: IndexedFrame): Buffer {
  const stream = readStream(capture, frame.stream_file);
  const start = frame.stream_offset + 4;
  return stream.subarray(start, start + frame.len);
}

export const isRsync = (frame: IndexedFrame): boolean => frame.stream_file.startsWith('rsync');
