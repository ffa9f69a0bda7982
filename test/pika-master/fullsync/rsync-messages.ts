// rsync2 messages (proto/rsync_service.proto) for the test master's rsync server. Requests are parsed like C++
// proto2 `ParseFromArray` in RsyncServerConn::DealMessage: a missing required field or a `type` outside the enum
// fails the parse (the connection is then closed). Responses always carry every required field.

import { RsyncRequestType, RsyncResponseType } from '../repl/pb-messages.ts';

export const RsyncType = { kRsyncMeta: 1, kRsyncFile: 2 } as const;
export const RsyncCode = { kOk: 1, kErr: 2 } as const;

export interface RsyncRequest {
  type: number;
  reader_index: number;
  db_name: string;
  slot_id: number;
  file_req?: { filename: string; count: number; offset: number };
}

export interface RsyncResponse {
  type: number;
  reader_index: number;
  snapshot_uuid: string;
  db_name: string;
  slot_id: number;
  code: number;
  meta_resp?: { filenames: string[] };
  file_resp?: { eof: number; count: number; offset: number; data: Buffer; checksum: string; filename: string };
}

/** Throws when Pika's parser would reject the body. */
export function decodeRsyncRequest(body: Buffer): RsyncRequest {
  const message = RsyncRequestType.decode(body); // protobufjs throws on missing required fields
  const request = RsyncRequestType.toObject(message, { longs: Number, enums: Number, defaults: false }) as RsyncRequest;
  if (request.type !== RsyncType.kRsyncMeta && request.type !== RsyncType.kRsyncFile) {
    throw new Error(`type ${String(request.type)} is not in the enum (proto2 keeps it as an unknown field, so the required type is missing)`);
  }
  return request;
}

export function encodeRsyncResponse(response: RsyncResponse): Buffer {
  const error = RsyncResponseType.verify(response);
  if (error) throw new Error(`test master built an invalid RsyncResponse: ${error}`);
  const bytes = RsyncResponseType.encode(RsyncResponseType.fromObject(response)).finish();
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes); // protobufjs gives a Buffer under Node: no second copy
}

export function decodeRsyncResponse(body: Buffer): RsyncResponse {
  return RsyncResponseType.toObject(RsyncResponseType.decode(body), { longs: Number, enums: Number, bytes: Buffer, arrays: true, defaults: false }) as RsyncResponse;
}

export function encodeRsyncRequest(request: RsyncRequest): Buffer {
  return Buffer.from(RsyncRequestType.encode(RsyncRequestType.fromObject(request)).finish());
}
