// Per-DB binlog `manifest` (Version::StableSave, src/pika_binlog.cc @v4.0.1; same bytes in 3.5.5):
// a 64 KiB file, u32 pro_num @0, u64 pro_offset @4, u64 logic_id @12, u32 term @20 (little-endian).

import { readFileSync, writeFileSync } from 'node:fs';

export const MANIFEST_SIZE = 65536;
/** Bytes at the start of the manifest that carry state; the rest is zeros. */
export const MANIFEST_STATE_SIZE = 24;

export interface ManifestState {
  filenum: number;
  offset: bigint;
  logicId: bigint;
  term: number;
}

export function encodeManifest(state: ManifestState): Buffer {
  return encodeManifestState(state, Buffer.alloc(MANIFEST_SIZE));
}

/** Writes the state fields into the first MANIFEST_STATE_SIZE bytes of `out`. */
export function encodeManifestState(state: ManifestState, out: Buffer): Buffer {
  out.writeUInt32LE(state.filenum, 0);
  out.writeBigUInt64LE(state.offset, 4);
  out.writeBigUInt64LE(state.logicId, 12);
  out.writeUInt32LE(state.term, 20);
  return out;
}

export function decodeManifest(bytes: Buffer, path: string): ManifestState {
  if (bytes.length < 24) throw new Error(`binlog manifest ${path} is ${bytes.length} bytes, expected at least 24`);
  return {
    filenum: bytes.readUInt32LE(0),
    offset: bytes.readBigUInt64LE(4),
    logicId: bytes.readBigUInt64LE(12),
    term: bytes.readUInt32LE(20),
  };
}

export function writeManifest(path: string, state: ManifestState): void {
  writeFileSync(path, encodeManifest(state));
}

export function readManifest(path: string): ManifestState {
  return decodeManifest(readFileSync(path), path);
}
