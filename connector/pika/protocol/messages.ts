// Typed encode/decode of Pika's protobuf messages (proto/pika_inner_message.proto, proto/rsync_service.proto).
//
// Contracts:
// - uint64 fields (BinlogOffset.offset/index, FileRequest/FileResponse count/offset) are `bigint` when decoded;
//   encoders accept `bigint | number`. Other integers are `number`.
// - `bytes` fields decode to Buffer views of the input (no copy): keep the input alive or copy if you store them.
// - Enums are their numeric values (see the `*Type`/`*Code` constants below).
// - Absent optional fields are `undefined` (never filled with defaults).
// - A top-level `type` outside the schema's enum is rejected (as proto2 C++ parsing does); nested enums (code,
//   reply_code) are returned as numbers for the caller to judge.
// - Encoders write every required field, even when it is 0/false/"" (Pika's master drops the connection
//   otherwise); a missing required field throws a `PikaProtocolError` before anything is written.
// - Decoders enforce required fields, except the two that depend on the master's version:
//   `InnerResponse.MetaSync.run_id` (absent before 3.5.0) and `MetaSync.DBInfo.db_instance_num` (absent before
//   4.0.0). A truncated/garbled message or another missing required field throws `PikaProtocolError`.
// - The schemas are parsed once, lazily, from files located relative to this module.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { PikaProtocolError } from './errors.ts';
import { docRef } from '../../../runtime/api/index.ts';

export { PikaProtocolError } from './errors.ts';

// ---------- enums ----------

export const InnerType = {
  kMetaSync: 1,
  kTrySync: 2,
  kDBSync: 3,
  kBinlogSync: 4,
  kHeatBeat: 5,
  kRemoveSlaveNode: 6,
} as const;
export type InnerTypeValue = (typeof InnerType)[keyof typeof InnerType];

export const StatusCode = { kOk: 1, kError: 2, kOther: 3 } as const;
export type StatusCodeValue = (typeof StatusCode)[keyof typeof StatusCode];

export const TrySyncReplyCode = { kOk: 1, kSyncPointBePurged: 2, kSyncPointLarger: 3, kError: 4 } as const;
export type TrySyncReplyCodeValue = (typeof TrySyncReplyCode)[keyof typeof TrySyncReplyCode];

export const RsyncType = { kRsyncMeta: 1, kRsyncFile: 2 } as const;
export type RsyncTypeValue = (typeof RsyncType)[keyof typeof RsyncType];

export const RsyncStatusCode = { kOk: 1, kErr: 2 } as const;
export type RsyncStatusCodeValue = (typeof RsyncStatusCode)[keyof typeof RsyncStatusCode];

// ---------- shared shapes ----------

type U64In = bigint | number;

export interface BinlogOffset<U = bigint> {
  filenum: number;
  offset: U;
  term?: number;
  index?: U;
}
export interface PbNode {
  ip: string;
  port: number;
}
export interface PbSlot {
  db_name: string;
  slot_id: number;
}
export interface ConsensusMeta<U = bigint> {
  term?: number;
  log_offset?: BinlogOffset<U>;
  commit?: BinlogOffset<U>;
  reject?: boolean;
  hint?: BinlogOffset<U>[];
}

// ---------- InnerRequest (slave -> master) ----------

export interface InnerRequest<U = bigint> {
  type: InnerTypeValue | number;
  meta_sync?: { node: PbNode; auth?: string };
  try_sync?: { node: PbNode; slot: PbSlot; binlog_offset: BinlogOffset<U> };
  db_sync?: { node: PbNode; slot: PbSlot; binlog_offset: BinlogOffset<U> };
  binlog_sync?: {
    node: PbNode;
    db_name: string;
    slot_id: number;
    ack_range_start: BinlogOffset<U>;
    ack_range_end: BinlogOffset<U>;
    session_id: number;
    first_send: boolean;
  };
  remove_slave_node?: { node: PbNode; slot: PbSlot }[];
  consensus_meta?: ConsensusMeta<U>;
}
export type InnerRequestInput = InnerRequest<U64In>;

// ---------- InnerResponse (master -> slave) ----------

export interface MetaSyncDbInfo {
  db_name: string;
  slot_num: number;
  /** Absent from masters older than 4.0.0. */
  db_instance_num?: number;
}
export interface InnerResponseMetaSync {
  classic_mode: boolean;
  dbs_info?: MetaSyncDbInfo[];
  /** Absent from masters older than 3.5.0. */
  run_id?: string;
  replication_id?: string;
}
export interface InnerResponseTrySync<U = bigint> {
  reply_code: TrySyncReplyCodeValue | number;
  slot: PbSlot;
  binlog_offset?: BinlogOffset<U>;
  session_id?: number;
}
export interface InnerResponseBinlogSync<U = bigint> {
  slot: PbSlot;
  /** End position of the item in `binlog` (term/index = the item's term_id/logic_id). */
  binlog_offset: BinlogOffset<U>;
  /** Encoded binlog item; empty = keepalive. */
  binlog: Uint8Array;
  session_id: number;
}
export interface InnerResponse<U = bigint> {
  type: InnerTypeValue | number;
  code: StatusCodeValue | number;
  reply?: string;
  meta_sync?: InnerResponseMetaSync;
  db_sync?: { slot: PbSlot; session_id: number };
  try_sync?: InnerResponseTrySync<U>;
  binlog_sync?: InnerResponseBinlogSync<U>[];
  remove_slave_node?: { node: PbNode; slot: PbSlot }[];
  consensus_meta?: ConsensusMeta<U>;
}
export type InnerResponseInput = InnerResponse<U64In>;

// ---------- rsync2 ----------

export interface FileRequest<U = bigint> {
  filename: string;
  count: U;
  offset: U;
}
export interface RsyncRequest<U = bigint> {
  type: RsyncTypeValue | number;
  reader_index: number;
  db_name: string;
  slot_id: number;
  file_req?: FileRequest<U>;
}
export type RsyncRequestInput = RsyncRequest<U64In>;

export interface FileResponse<U = bigint> {
  eof: number;
  count: U;
  offset: U;
  data: Uint8Array;
  checksum: string;
  filename: string;
}
export interface RsyncResponse<U = bigint> {
  type: RsyncTypeValue | number;
  reader_index: number;
  snapshot_uuid: string;
  db_name: string;
  slot_id: number;
  code: RsyncStatusCodeValue | number;
  meta_resp?: { filenames?: string[] };
  file_resp?: FileResponse<U>;
}
export type RsyncResponseInput = RsyncResponse<U64In>;

// ---------- schema loading ----------

interface Schemas {
  innerRequest: protobuf.Type;
  innerResponseStrict: protobuf.Type;
  innerResponseLenient: protobuf.Type;
  rsyncRequest: protobuf.Type;
  rsyncResponse: protobuf.Type;
}

let cached: Schemas | undefined;

const protoFile = (name: string): string => fileURLToPath(new URL(`../../../proto/${name}`, import.meta.url));

/** keepCase: field names stay snake_case as in the wire schema (protobufjs camel-cases by default). */
const parseProto = (text: string): protobuf.Root => protobuf.parse(text, { keepCase: true }).root;

/** Declarations that are `required` in 4.0.1 but absent from older masters; optional in the lenient decoder. */
const VERSION_DEPENDENT_FIELDS = ['required string run_id = 3;', 'required int32 db_instance_num = 3;'];

function loadSchemas(): Schemas {
  if (cached) return cached;
  const innerText = readFileSync(protoFile('pika_inner_message.proto'), 'utf8');
  let lenientText = innerText;
  for (const declaration of VERSION_DEPENDENT_FIELDS) {
    if (!lenientText.includes(declaration)) throw new Error(`proto schema drift: "${declaration}" not found`);
    lenientText = lenientText.replace(declaration, declaration.replace('required', 'optional'));
  }
  const strict = parseProto(innerText).resolveAll();
  const lenient = parseProto(lenientText).resolveAll();
  const rsync = parseProto(readFileSync(protoFile('rsync_service.proto'), 'utf8')).resolveAll();
  cached = {
    innerRequest: strict.lookupType('InnerMessage.InnerRequest'),
    innerResponseStrict: strict.lookupType('InnerMessage.InnerResponse'),
    innerResponseLenient: lenient.lookupType('InnerMessage.InnerResponse'),
    rsyncRequest: rsync.lookupType('RsyncService.RsyncRequest'),
    rsyncResponse: rsync.lookupType('RsyncService.RsyncResponse'),
  };
  return cached;
}

// ---------- generic encode/decode ----------

/** bigint is not understood by protobufjs' fromObject; decimal strings are (exact for any uint64). */
function bigintsToStrings(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(bigintsToStrings);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = bigintsToStrings(v);
  return out;
}

/**
 * protobufjs fills a missing required scalar with its default (0, "", false) when encoding; Pika would accept
 * that silently, so a caller's forgotten field must be caught here instead.
 */
function findMissingRequired(type: protobuf.Type, value: Record<string, unknown>, path: string): string | undefined {
  for (const field of type.fieldsArray) {
    const fieldValue = value[field.name];
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    if (fieldValue === undefined || fieldValue === null) {
      if (field.required) return fieldPath;
      continue;
    }
    const nested = field.resolve().resolvedType;
    if (!(nested instanceof protobuf.Type)) continue;
    const items = field.repeated && Array.isArray(fieldValue) ? fieldValue : [fieldValue];
    for (const [i, item] of items.entries()) {
      if (item === null || typeof item !== 'object') continue; // fromObject reports the type error
      const itemPath = field.repeated ? `${fieldPath}[${i}]` : fieldPath;
      const missing = findMissingRequired(nested, item as Record<string, unknown>, itemPath);
      if (missing) return missing;
    }
  }
  return undefined;
}

function encodeWith(type: protobuf.Type, value: object): Uint8Array {
  const name = type.fullName.slice(1);
  const missing = findMissingRequired(type, value as Record<string, unknown>, '');
  if (missing) throw new PikaProtocolError(`cannot encode ${name}: required field ${missing} is missing`);
  let message: protobuf.Message;
  try {
    message = type.fromObject(bigintsToStrings(value) as Record<string, unknown>);
  } catch (err) {
    throw new PikaProtocolError(`cannot encode ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problem = type.verify(message);
  if (problem) throw new PikaProtocolError(`cannot encode ${name}: ${problem}`);
  return type.encode(message).finish();
}

function decodeWith<T extends { type: number }>(
  type: protobuf.Type,
  bytes: Uint8Array,
  name: string,
  knownTypes: Record<string, number>,
): T {
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PikaProtocolError(`malformed ${name} (${bytes.length} bytes): ${reason} ${docRef('protocolMismatch')}`, { cause: err });
  }
  const object = type.toObject(message, { longs: BigInt, enums: Number, bytes: Buffer }) as T;
  // proto2 parsers treat an unknown enum value as an unknown field, so the required `type` would be missing.
  if (!Object.values(knownTypes).includes(object.type)) {
    throw new PikaProtocolError(`malformed ${name} (${bytes.length} bytes): unknown message type ${object.type} ${docRef('protocolMismatch')}`);
  }
  return object;
}

// ---------- public API ----------

export function encodeInnerRequest(request: InnerRequestInput): Uint8Array {
  return encodeWith(loadSchemas().innerRequest, request);
}

/** Strict decode (every required field enforced), as Pika's master parses requests. */
export function decodeInnerRequest(bytes: Uint8Array): InnerRequest {
  return decodeWith(loadSchemas().innerRequest, bytes, 'InnerRequest', InnerType);
}

/** Encodes with Pika 4.0.1's schema: run_id and db_instance_num are required. */
export function encodeInnerResponse(response: InnerResponseInput): Uint8Array {
  return encodeWith(loadSchemas().innerResponseStrict, response);
}

/** Decodes a master's response; tolerates the version-dependent fields older masters omit (see header). */
export function decodeInnerResponse(bytes: Uint8Array): InnerResponse {
  return decodeWith(loadSchemas().innerResponseLenient, bytes, 'InnerResponse', InnerType);
}

export function encodeRsyncRequest(request: RsyncRequestInput): Uint8Array {
  return encodeWith(loadSchemas().rsyncRequest, request);
}

export function decodeRsyncRequest(bytes: Uint8Array): RsyncRequest {
  return decodeWith(loadSchemas().rsyncRequest, bytes, 'RsyncRequest', RsyncType);
}

export function encodeRsyncResponse(response: RsyncResponseInput): Uint8Array {
  return encodeWith(loadSchemas().rsyncResponse, response);
}

export function decodeRsyncResponse(bytes: Uint8Array): RsyncResponse {
  return decodeWith(loadSchemas().rsyncResponse, bytes, 'RsyncResponse', RsyncType);
}
