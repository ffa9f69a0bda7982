/** Read-only RocksDB access in pure TypeScript: `ReadOnlyDb.open(dir)` then `db.cursor(columnFamily)`. */
export { ReadOnlyDb, CfCursor, type OpenDbOptions } from './db.ts';
export { RocksDbFormatError } from './errors.ts';
export { comparatorByName, type UserComparator } from './comparators.ts';
export type { DbState, ColumnFamilyState, SstFileMeta } from './manifest.ts';
