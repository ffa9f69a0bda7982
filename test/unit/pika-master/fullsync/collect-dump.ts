// Reads a generated dump back through the connector's pure-TS reader into the ground-truth shape of
// dump-scenario.ts, so the two can be compared with one deepEqual.

import { readDbDump } from '../../../../connector/pika/dump/dump-reader.ts';
import type { DumpRecord } from '../../../../connector/pika/dump/types.ts';
import { scoreText, type Expected, type ExpectedDump } from './dump-scenario.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export async function collectDump(dbDir: string, nowMs: number, warnings: string[] = []): Promise<ExpectedDump> {
  const out: ExpectedDump = new Map();
  let open: (Expected & { items: string[] }) | undefined;
  for await (const r of readDbDump(dbDir, 'db0', { nowMs, onWarning: (w) => warnings.push(w) }) as AsyncGenerator<DumpRecord>) {
    const key = hex(r.pos.key);
    switch (r.kind) {
      case 'string':
        if (out.has(key)) throw new Error(`key ${key} read twice`);
        out.set(key, { type: 'string', value: hex(r.value), expireAtMs: r.expireAtMs, hyperloglog: r.hyperloglog });
        break;
      case 'key-start':
        if (out.has(key)) throw new Error(`key ${key} read twice`);
        open = { type: r.type, expireAtMs: r.expireAtMs, items: [] };
        out.set(key, open);
        break;
      case 'elements':
        for (const item of r.items) open!.items.push(elementText(r.type, item));
        break;
      case 'key-end':
        if (r.type === 'hash' || r.type === 'set' || r.type === 'zset') open!.items.sort();
        open = undefined;
        break;
    }
  }
  return out;
}

function elementText(type: string, item: unknown): string {
  switch (type) {
    case 'hash': {
      const h = item as { field: Uint8Array; value: Uint8Array };
      return `${hex(h.field)}=${hex(h.value)}`;
    }
    case 'zset': {
      const z = item as { member: Uint8Array; score: number };
      return `${hex(z.member)}=${scoreText(z.score)}`;
    }
    case 'stream': {
      const s = item as { id: { ms: bigint; seq: bigint }; fieldsAndValues: Uint8Array[] };
      return `${s.id.ms}-${s.id.seq}:${s.fieldsAndValues.map(hex).join(',')}`;
    }
    default:
      return hex(item as Uint8Array);
  }
}

/** Readable difference of two dumps (first few keys), for assertion messages. */
export function describeDiff(expected: ExpectedDump, actual: ExpectedDump): string {
  const lines: string[] = [];
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (!a) lines.push(`missing ${k} (${e.type})`);
    else if (JSON.stringify(a) !== JSON.stringify(e)) lines.push(`differs ${k}: expected ${JSON.stringify(e).slice(0, 300)} got ${JSON.stringify(a).slice(0, 300)}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) lines.push(`unexpected ${k} (${actual.get(k)!.type})`);
  return lines.slice(0, 10).join('\n') + (lines.length > 10 ? `\n… ${lines.length - 10} more` : '');
}
