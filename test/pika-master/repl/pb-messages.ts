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

export function encodeInnerResponse(response: Record<string, unknown>): Buffer {
  const error = InnerResponseType.verify(response);
  if (error) throw new Error(`test master built an invalid InnerResponse: ${error}`);
  return Buffer.from(InnerResponseType.encode(InnerResponseType.fromObject(response)).finish());
}

export function decodeInnerResponse(body: Buffer): Record<string, unknown> {
  return InnerResponseType.toObject(InnerResponseType.decode(body), { longs: String, enums: String, bytes: Buffer, arrays: true }) as Record<string, unknown>;
}
