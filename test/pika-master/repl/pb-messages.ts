// Protobuf types of Pika's replication protocol, loaded from the repo's proto/*.proto with field
// names exactly as in the .proto (keepCase). Request parsing is strict like C++ proto2
// `ParseFromArray` (missing required field or unknown enum value in a required field ⇒ failure);
// responses are encoded with every required field present.

import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

const protoDir = fileURLToPath(new URL('../../../proto/', import.meta.url));

function load(file: string): protobuf.Root {
  return new protobuf.Root().loadSync(protoDir + file, { keepCase: true });
}

const inner = load('pika_inner_message.proto');
const rsync = load('rsync_service.proto');

export const InnerRequestType = inner.lookupType('InnerMessage.InnerRequest');
export const InnerResponseType = inner.lookupType('InnerMessage.InnerResponse');
/**
 * The 3.5.x response schema: the same messages without 4.0's `db_instance_num` (a 3.5.5 master's
 * MetaSync reply carries none, pika-protocol.md §4.2). Same field numbers, so the bytes are what 3.5 sends.
 */
const inner35 = load('pika_inner_message.proto');
inner35.lookupType('InnerMessage.InnerResponse.MetaSync.DBInfo').remove(
  inner35.lookupType('InnerMessage.InnerResponse.MetaSync.DBInfo').fields.db_instance_num!,
);
const InnerResponse35Type = inner35.lookupType('InnerMessage.InnerResponse');
/**
 * The 3.1–3.4 response schema (`src/pika_inner_message.proto@v3.4.1`): MetaSync is only `classic_mode` and
 * `tables_info{table_name, partition_num}` (the same field numbers as dbs_info{db_name, slot_num}) — no run_id,
 * replication_id or db_instance_num.
 */
const inner34 = load('pika_inner_message.proto');
const meta34 = inner34.lookupType('InnerMessage.InnerResponse.MetaSync');
for (const name of ['run_id', 'replication_id']) if (meta34.fields[name]) meta34.remove(meta34.fields[name]!);
const dbInfo34 = inner34.lookupType('InnerMessage.InnerResponse.MetaSync.DBInfo');
dbInfo34.remove(dbInfo34.fields.db_instance_num!);
const InnerResponse34Type = inner34.lookupType('InnerMessage.InnerResponse');
export const RsyncRequestType = rsync.lookupType('RsyncService.RsyncRequest');
export const RsyncResponseType = rsync.lookupType('RsyncService.RsyncResponse');

export const MsgType = { kMetaSync: 1, kTrySync: 2, kDBSync: 3, kBinlogSync: 4, kHeatBeat: 5, kRemoveSlaveNode: 6 } as const;
export const StatusCode = { kOk: 1, kError: 2, kOther: 3 } as const;
export const TrySyncReply = { kOk: 1, kSyncPointBePurged: 2, kSyncPointLarger: 3, kError: 4 } as const;

export interface PbNode { ip: string; port: number }
export interface PbSlot { db_name: string; slot_id: number }
export interface PbOffset { filenum: number; offset: number | bigint; term?: number; index?: number | bigint }

export interface InnerRequest {
  type: number;
  meta_sync?: { node: PbNode; auth?: string };
  try_sync?: { node: PbNode; slot: PbSlot; binlog_offset: PbOffset };
  db_sync?: { node: PbNode; slot: PbSlot; binlog_offset: PbOffset };
  binlog_sync?: {
    node: PbNode; db_name: string; slot_id: number; ack_range_start: PbOffset; ack_range_end: PbOffset;
    session_id: number; first_send: boolean;
  };
  remove_slave_node?: { node: PbNode; slot: PbSlot }[];
}

/** Decodes a request; throws when C++ proto2 parsing would fail. */
export function decodeInnerRequest(body: Buffer): InnerRequest {
  const message = InnerRequestType.decode(body);
  const object = InnerRequestType.toObject(message, { longs: Number, enums: Number, defaults: false, arrays: true }) as InnerRequest;
  if (object.type === undefined || !Object.values(MsgType).includes(object.type as 1)) {
    throw new Error('missing required field type');
  }
  return object;
}

export function encodeInnerResponse(response: Record<string, unknown>, profile: '4.0' | '3.5' | '3.4' = '4.0'): Buffer {
  const type = profile === '3.4' ? InnerResponse34Type : profile === '3.5' ? InnerResponse35Type : InnerResponseType;
  const error = type.verify(response);
  if (error) throw new Error(`test master built an invalid InnerResponse: ${error}`);
  return Buffer.from(type.encode(type.fromObject(response)).finish());
}

/** Decodes a response of any profile (a 3.5 MetaSync reply has no db_instance_num, a 3.4 one no run_id either). */
export function decodeInnerResponse(body: Buffer): Record<string, unknown> {
  let failure: unknown;
  for (const type of [InnerResponseType, InnerResponse35Type, InnerResponse34Type]) {
    let message: protobuf.Message;
    try {
      message = type.decode(body);
    } catch (error) {
      if (!/db_instance_num|run_id/.test((error as Error).message)) throw error;
      failure = error;
      continue;
    }
    return type.toObject(message, { longs: String, enums: String, bytes: Buffer, arrays: true }) as Record<string, unknown>;
  }
  throw failure;
}
