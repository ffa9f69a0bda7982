// The rsync2 client against the test master's independent rsync2 server (test/pika-master/fullsync), which
// serves like Pika 4.0.1: concurrent replies, per-connection readers with 16 MiB blocks, kErr while dumping.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { downloadDump } from '../../../../../connector/pika/rsync/rsync-client.ts';
import { tcpTransportFactory } from '../../../../../connector/pika/rsync/transport.ts';
import type { DbBgsave } from '../../../../pika-master/fullsync/bgsave.ts';
import { RsyncServer } from '../../../../pika-master/fullsync/rsync-server.ts';

const root = fileURLToPath(new URL('../../../../../../shared/pika-vectors/master_dump/20261122/', import.meta.url));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out.sort();
}

/** A finished bgsave of the real 4.0.1 dump of `db`, in the shape the server reads (name, state, path, meta). */
async function servedDump(db: string) {
  const path = join(root, db);
  const filenames = (await listFiles(path)).filter((f) => f !== 'info').concat('info');
  const uuid = createHash('md5').update(await readFile(join(path, 'info'))).digest('hex');
  const fake = { dbName: db, path, bgsaving: false, metaData: async () => ({ filenames, uuid }), snapshotUuid: async () => uuid };
  return { fake: fake as unknown as DbBgsave, uuid };
}

describe('rsync2 client against the test master rsync2 server', () => {
  it('downloads both DBs over one server in small chunks, byte-identical', async () => {
    const d0 = await servedDump('db0');
    const d1 = await servedDump('db1');
    const server = new RsyncServer({ host: '127.0.0.1', port: 0, root, dbs: [d0.fake, d1.fake] });
    const port = await server.listen();
    const dir = await mkdtemp(join(tmpdir(), 'pika-rsync-master-'));
    try {
      const [r0, r1] = await Promise.all(
        (['db0', 'db1'] as const).map((db) => downloadDump({ db, dir, chunkBytes: 40_000, connect: tcpTransportFactory('127.0.0.1', port) })),
      );
      for (const [r, db, uuid] of [[r0!, 'db0', d0.uuid], [r1!, 'db1', d1.uuid]] as const) {
        assert.equal(r.snapshotUuid, uuid);
        const expected = await listFiles(join(root, db));
        assert.deepEqual(await listFiles(r.dumpDir), expected);
        for (const f of expected) assert.deepEqual(await readFile(join(r.dumpDir, f)), await readFile(join(root, db, f)), `${db}/${f}`);
      }
      assert.equal(server.crashesAvoided, 0, 'never sent a reader_index the real master would crash on');
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
