// The short chaos run (the full one is `bash scripts/chaos.sh`): a steady mixed write load on the test master (every
// data type, 2 DBs) while the cheap fault classes hit the pipeline against the single test broker — SIGKILL of the
// worker during the dump download, the snapshot emission and binlog streaming; a master restart; the replication
// connection cut, stalled and sent a corrupt frame; the checkpoint directory unwritable and full. Afterwards two
// independent read_committed consumers (kafkajs, kcat) and a raw read of the broker's log find nothing lost,
// duplicated, out of order per key, read from aborted transactions, or torn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { bootstrap } from '../../helpers/kafka.ts';
import { SHORT_PLAN, formatLine, runSuite } from '../../chaos/suite.ts';

test('short chaos run: 0 lost, 0 duplicated, nothing out of order, aborted or torn under cheap faults', { skip: rocksDbMissing() ?? false, timeout: 400_000 }, async (t) => {
  const lines = await runSuite({
    bootstrap: bootstrap(),
    classes: ['runtime-kill', 'master', 'connection', 'checkpoint'],
    plan: SHORT_PLAN,
    seed: 9_2026_1122,
    log: (line) => t.diagnostic(line),
  });
  assert.equal(lines.length, 4);
  for (const line of lines) {
    const f = line.result.figures;
    const figures = formatLine(line);
    assert.ok(f.written > 0 && f.inKafka > f.written, `${line.name}: the load wrote and Kafka holds it (snapshot included): ${figures}`);
    assert.equal(f.lost, 0, `${line.name}: lost — ${figures}\n${f.notes.join('\n')}`);
    assert.equal(f.duplicated, 0, `${line.name}: duplicated — ${figures}\n${f.notes.join('\n')}`);
    assert.equal(f.outOfOrder, 0, `${line.name}: out of order — ${figures}\n${f.notes.join('\n')}`);
    assert.equal(f.aborted, 0, `${line.name}: aborted reads — ${figures}\n${f.notes.join('\n')}`);
    assert.equal(f.torn, 0, `${line.name}: torn transactions — ${figures}\n${f.notes.join('\n')}`);
    assert.deepEqual(line.result.failures, [], line.name);
  }
});
