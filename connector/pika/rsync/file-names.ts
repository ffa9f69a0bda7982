// Which names from the master's meta list we are willing to request and write. The master does not check the
// names it serves (`../../../pika.conf` returns its config, pika-vectors-errors README), so a name we request
// must come from the meta list, and a name we write must stay inside the download directory.
import { resolve, sep } from 'node:path';
import { RsyncError } from './errors.ts';
import { docRef } from '../../../runtime/api/index.ts';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Throws `RsyncError` unless `name` is a plain relative path: segments of [A-Za-z0-9._-], no `.`/`..`, no `/` at the ends. */
export function checkFileName(name: string, db: string): void {
  const bad = (why: string): never => {
    throw new RsyncError(`${db}: rsync2 meta lists the file name ${JSON.stringify(name)}, which is refused: ${why} ${docRef('rsyncDump')}`, {
      code: 'PIKA_RSYNC_BAD_NAME',
    });
  };
  if (name.length === 0) bad('empty');
  if (name.length > 255) bad('longer than 255 characters');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) bad('absolute path');
  if (name.includes('\\')) bad('backslash');
  const segments = name.split('/');
  if (segments.length > 2) bad('deeper than <instance>/<file>');
  for (const s of segments) {
    if (s === '.' || s === '..') bad('"." or ".." segment');
    if (!SEGMENT.test(s)) bad(`segment ${JSON.stringify(s)} has characters outside [A-Za-z0-9._-]`);
  }
}

/** The absolute local path for `name` under `dir`, guaranteed inside `dir`. */
export function localPath(dir: string, name: string, db: string): string {
  checkFileName(name, db);
  const root = resolve(dir);
  const path = resolve(root, name);
  if (!path.startsWith(root + sep)) {
    throw new RsyncError(`${db}: rsync2 file name ${JSON.stringify(name)} resolves outside ${root} ${docRef('rsyncDump')}`, { code: 'PIKA_RSYNC_BAD_NAME' });
  }
  return path;
}

/**
 * Validates a meta list (pika-protocol.md §7.2): every name acceptable, no duplicates, `info` present, and every
 * instance directory (`0/`, `1/`… or `strings/`…) holding a `CURRENT` and a `MANIFEST-*`.
 */
export function checkMetaList(names: readonly string[], db: string): void {
  const fail = (why: string): never => {
    throw new RsyncError(`${db}: rsync2 meta list is not a usable dump: ${why} (files: ${names.slice(0, 50).join(', ')})`, {
      code: 'PIKA_RSYNC_BAD_META',
    });
  };
  const seen = new Set<string>();
  const instances = new Map<string, Set<string>>();
  for (const n of names) {
    checkFileName(n, db);
    if (seen.has(n)) fail(`${n} listed twice`);
    seen.add(n);
    const slash = n.indexOf('/');
    if (slash < 0) {
      if (n !== 'info') fail(`unexpected top-level file ${n}`);
      continue;
    }
    const inst = n.slice(0, slash);
    if (!instances.has(inst)) instances.set(inst, new Set());
    instances.get(inst)!.add(n.slice(slash + 1));
  }
  if (!seen.has('info')) fail('no info file');
  if (instances.size === 0) fail('no RocksDB instance directory');
  for (const [inst, files] of instances) {
    if (!files.has('CURRENT')) fail(`instance ${inst} has no CURRENT`);
    if (![...files].some((f) => f.startsWith('MANIFEST-'))) fail(`instance ${inst} has no MANIFEST-*`);
  }
}
