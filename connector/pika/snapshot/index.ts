// Dump → snapshot events: the public surface of this folder.
export { snapshotEvents } from './snapshot-events.ts';
export type { SnapshotRecord } from './snapshot-events.ts';
export type { SnapshotOptions, OversizePolicy } from './options.ts';
export { DEFAULT_MAX_BYTES_PER_EVENT, DEFAULT_MAX_ELEMENTS_PER_EVENT } from './options.ts';
export { isSnapshotOffset, parseSnapshotPosition, positionToOffset } from './position.ts';
export type { SnapshotPosition } from './position.ts';
export { formatScore, WARNING_PIKA_HYPERLOGLOG, WARNING_STREAMS_NOT_IN_DUMP } from './event-builder.ts';
export type { SnapshotPikaEvent, PikaSnapshotPart } from './event-builder.ts';
