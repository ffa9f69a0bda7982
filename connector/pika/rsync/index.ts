// rsync2 full-sync download (pika-protocol.md §7.2): the public surface of this folder.
export { downloadDump, completedDownload, removeDownload, dumpDirName, MAX_CHUNK_BYTES, CHECKPOINT_BYTES } from './rsync-client.ts';
export type { RsyncDownloadOptions, RsyncDownloadResult, RsyncProgress } from './rsync-client.ts';
export { tcpTransportFactory } from './transport.ts';
export type { RsyncTransport, RsyncTransportFactory } from './transport.ts';
export { NewerDumpError, RsyncError, RsyncTimeoutError } from './errors.ts';
export { JOURNAL_FILE } from './journal.ts';
