/**
 * Pika full-sync dump → per-key records. Start with `listDumpDbs(dumpDir)`, then for each DB `readDumpInfo(dir)`
 * (binlog resume point, snapshot uuid) and `readDbDump(dir, db, { after })` (streamed records, resumable).
 */
export { detectLayout, listDumpDbs, readDbDump, readDbDumpBatches, type DumpLayout } from './dump-reader.ts';
export { parseDumpInfo, readDumpInfo, type DumpInfo } from './info-file.ts';
export { DumpFormatError } from './errors.ts';
export type * from './types.ts';
