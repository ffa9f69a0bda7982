import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSchema } from '../../../../../runtime/converters/avro/avro-converter.ts';
import { toAvroValue } from '../../../../../runtime/converters/avro/value-mapping.ts';
import { snapshotEvents } from '../../../../../connector/pika/snapshot/snapshot-events.ts';

const root = new URL('../../../../../', import.meta.url);
const db0 = fileURLToPath(new URL('../shared/pika-vectors/master_dump/20261122/db0', root));

describe('snapshot events and the Pika event value schema (schemas/pika-event-value.v1.avsc)', () => {
  it('every snapshot and control event of a real dump maps onto the schema and round-trips', async () => {
    const { type } = parseSchema(await readFile(new URL('schemas/pika-event-value.v1.avsc', root), 'utf8'));
    let n = 0;
    const opts = { db: 'db0', sourceId: 't', source: { host: 'h', port: 9221, replication_id: null }, nowMs: Date.UTC(2026, 10, 23), maxElementsPerEvent: 3000 };
    for await (const r of snapshotEvents(db0, opts)) {
      const avro = toAvroValue(type, r.event) as Record<string, unknown>;
      const back = type.fromBuffer(type.toBuffer(avro)) as Record<string, unknown>;
      assert.deepEqual({ ...(back.snapshot as object) }, r.event.snapshot);
      assert.equal(back.event_id, r.event.event_id);
      n++;
    }
    assert.ok(n > 40);
  });
});
