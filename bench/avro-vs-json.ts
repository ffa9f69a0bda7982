// Serialization cost of one Pika-shaped event: AvroConverter (Confluent wire format, schemas/pika-event-value.v1.avsc)
// vs JsonConverter with and without the schema envelope. Registry calls are answered in-process (the converter
// caches the id after the first record, so this measures encoding, not HTTP).
//   node --import tsx bench/avro-vs-json.ts [events=20000]
import { fileURLToPath } from 'node:url';
import { AvroConverter } from '../runtime/converters/avro/index.ts';
import { JsonConverter } from '../runtime/converters/json.ts';
import type { Converter } from '../runtime/api/converter.ts';
import type { SourceRecord } from '../runtime/api/record.ts';

const count = Number(process.argv[2] ?? 20000);
const schemaFile = fileURLToPath(new URL('../schemas/pika-event-value.v1.avsc', import.meta.url));
const record = { sourcePartition: {}, sourceOffset: {}, topic: 'bench', key: null, value: null } as SourceRecord;

function event(i: number): Record<string, unknown> {
  const key = Buffer.from(`user:${i}`).toString('base64');
  return {
    event_type: 'binlog', op: 'hset', data_type: 'hash', db: 0, slot: null, key: `user:${i}`, key_b64: key,
    args_b64: [key, Buffer.from('field').toString('base64'), Buffer.from(`value-${i}-`.padEnd(48, 'x')).toString('base64')],
    raw_resp_b64: null, ts_ms: 1763800000000 + i, event_id: `1:3:${i * 120}:${i}`, source_id: 'bench',
    binlog: { filenum: 3, offset: i * 120, end_filenum: 3, end_offset: i * 120 + 120, logic_id: i, server_id: null, term_id: 1 },
    source: { host: '10.0.0.5', port: 9221, replication_id: 'a1b2c3' }, expire_at_ms: null, warnings: [],
  };
}

const registryStub = async (url: string): Promise<Response> => {
  if (url.includes('/schemas/ids/')) {
    const { readFileSync } = await import('node:fs');
    return new Response(JSON.stringify({ schema: readFileSync(schemaFile, 'utf8') }));
  }
  return new Response(JSON.stringify({ id: 1 }));
};

async function measure(name: string, converter: Converter): Promise<void> {
  const events = Array.from({ length: count }, (_, i) => event(i));
  await converter.fromConnectData('bench', events[0], record); // warm-up + schema registration
  let bytes = 0;
  let bestEncode = 0;
  let bestDecode = 0;
  const rate = (ns: bigint) => Math.round(count / (Number(ns) / 1e9));
  // Best of 3 rounds: the machine is shared, the best round is the least disturbed one.
  for (let round = 0; round < 3; round++) {
    bytes = 0;
    const encoded: Buffer[] = new Array(count);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const b = (await converter.fromConnectData('bench', events[i], record))!;
      encoded[i] = b;
      bytes += b.length;
    }
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await converter.toConnectData('bench', encoded[i]!);
    const t2 = process.hrtime.bigint();
    bestEncode = Math.max(bestEncode, rate(t1 - t0));
    bestDecode = Math.max(bestDecode, rate(t2 - t1));
  }
  console.log(`${name.padEnd(28)} ${String(bestEncode).padStart(8)} enc/s ${String(bestDecode).padStart(8)} dec/s ${(bytes / count).toFixed(1).padStart(7)} bytes/event`);
}

const avro = new AvroConverter(registryStub);
avro.configure({ 'schema.registry.url': 'http://stub', 'schema.file': schemaFile }, false);
const jsonPlain = new JsonConverter();
jsonPlain.configure({ 'schemas.enable': 'false' });
const jsonEnvelope = new JsonConverter();
jsonEnvelope.configure({ 'schemas.enable': 'true' });

console.log(`${count} events, node ${process.version}`);
await measure('avro (confluent wire)', avro);
await measure('json schemas.enable=false', jsonPlain);
await measure('json schemas.enable=true', jsonEnvelope);
