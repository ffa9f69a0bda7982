// The test master must write the binlog a real Pika writes: driven by the vector scripts, its items
// (header fields, RESP bytes, file/offset positions, rotation) equal the real master's binlog in
// /work/shared/pika-vectors*/master_binlog — except exec times, TTL timestamps and generated stream ids.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasterCore } from '../../pika-master/master-core.ts';
import { parseRedisCliScript } from '../../pika-master/redis-cli-script.ts';
import { runCommands } from '../../pika-master/script-runner.ts';
import { BinlogReader } from '../../pika-master/binlog/binlog-reader.ts';
import { readManifest } from '../../pika-master/binlog/manifest.ts';
import { listBinlogFiles } from '../../pika-master/binlog/binlog-writer.ts';
import type { Profile } from '../../pika-master/commands/common.ts';

const shared = fileURLToPath(new URL('../../../../shared/', import.meta.url));

interface ParsedItem {
  execTime: number; termId: number; logicId: bigint; filenum: number; offset: bigint;
  contentLength: number; argv: Buffer[]; end: string;
}

function parseResp(content: Buffer): Buffer[] {
  const text = content.toString('latin1');
  assert.equal(text[0], '*');
  let pos = text.indexOf('\r\n');
  const count = Number(text.slice(1, pos));
  pos += 2;
  const argv: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const lenEnd = text.indexOf('\r\n', pos);
    const len = Number(text.slice(pos + 1, lenEnd));
    argv.push(content.subarray(lenEnd + 2, lenEnd + 2 + len));
    pos = lenEnd + 2 + len + 2;
  }
  assert.equal(pos, content.length, 'content is exactly one RESP array');
  return argv;
}

function readAllItems(dir: string): ParsedItem[] {
  const first = listBinlogFiles(dir)[0] ?? 0;
  const reader = new BinlogReader(dir, { filenum: first, offset: 0 });
  const items: ParsedItem[] = [];
  for (let read = reader.next(); read; read = reader.next()) {
    const it = read.item;
    assert.equal(it.readUInt16LE(0), 1, 'item type TypeFirst');
    items.push({
      execTime: it.readUInt32LE(2), termId: it.readUInt32LE(6), logicId: it.readBigUInt64LE(10),
      filenum: it.readUInt32LE(18), offset: it.readBigUInt64LE(22), contentLength: it.readUInt32LE(30),
      argv: parseResp(it.subarray(34)), end: `${read.end.filenum}:${read.end.offset}`,
    });
  }
  return items;
}

/** Hides what legitimately differs between runs: TTL timestamps and `*`-generated stream ids. */
function masked(argv: Buffer[]): string[] {
  const text = argv.map((a) => a.toString('latin1'));
  const cmd = text[0]!;
  if (cmd === 'pksetexat' && text[2] !== '0') text[2] = '<ttl>';
  if (cmd === 'expireat' || cmd === 'pexpireat') text[2] = '<ttl>';
  if (cmd === 'XADD' && /^17953\d{8}-\d+$/.test(text[2]!)) text[2] = '<generated-id>';
  return text;
}

function runVectors(vectorDir: string, profile: Profile, phases: string[], clocks: number[]) {
  const dir = mkdtempSync(join(tmpdir(), 'pika-master-fidelity-'));
  let now = clocks[0]!;
  const core = new MasterCore({
    dbs: 2, profile, dir, binlogFileSize: 1048576, expireLogsNums: 10, nowMs: () => now,
  });
  let db = 0;
  phases.forEach((phase, i) => {
    now = clocks[i]!;
    const commands = parseRedisCliScript(readFileSync(join(vectorDir, phase), 'utf8'));
    db = runCommands(core, commands, db).db;
  });
  core.close();
  return { dir, core };
}

function compareWithReal(vectorDir: string, ourRoot: string) {
  for (const db of [0, 1]) {
    const realDir = join(vectorDir, 'master_binlog', `log_db${db}`);
    const ourDir = join(ourRoot, 'log', `log_db${db}`);
    const real = readAllItems(realDir);
    const ours = readAllItems(ourDir);
    assert.equal(ours.length, real.length, `db${db}: item count`);
    real.forEach((r, i) => {
      const o = ours[i]!;
      const where = `db${db} item ${i + 1} (${r.argv[0]!.toString('latin1')} ${r.argv[1]?.toString('latin1').slice(0, 30) ?? ''})`;
      assert.deepEqual(masked(o.argv), masked(r.argv), `${where}: argv`);
      assert.equal(o.contentLength, r.contentLength, `${where}: content length`);
      assert.equal(o.logicId, r.logicId, `${where}: logic id`);
      assert.equal(o.termId, r.termId, `${where}: term`);
      assert.equal(`${o.filenum}:${o.offset}`, `${r.filenum}:${r.offset}`, `${where}: header position`);
      assert.equal(o.end, r.end, `${where}: end position`);
    });
    assert.deepEqual(listBinlogFiles(ourDir), listBinlogFiles(realDir), `db${db}: binlog files`);
    for (const n of listBinlogFiles(realDir)) {
      assert.equal(statSync(join(ourDir, `write2file${n}`)).size, statSync(join(realDir, `write2file${n}`)).size, `db${db}: size of write2file${n}`);
    }
    assert.deepEqual(readManifest(join(ourDir, 'manifest')), readManifest(join(realDir, 'manifest')), `db${db}: manifest`);
    assert.equal(statSync(join(ourDir, 'manifest')).size, statSync(join(realDir, 'manifest')).size);
  }
}

describe('binlog fidelity against a real Pika master', () => {
  const cleanup: string[] = [];
  after(() => cleanup.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('4.0.1: phase1 + phase2 produce the real binlog items, positions, rotation and manifest', () => {
    const vectorDir = join(shared, 'pika-vectors');
    const { dir } = runVectors(vectorDir, '4.0', ['phase1_pre_sync.redis', 'phase2_post_sync.redis'], [1795370899481, 1795370908108]);
    cleanup.push(dir);
    compareWithReal(vectorDir, dir);
  });

  it('3.5.5: phase1 + phase2 + phase3 produce the real binlog (seconds in PSETEX/PEXPIRE rewrites)', (t) => {
    const vectorDir = join(shared, 'pika-vectors-3.5.5');
    if (!existsSync(join(vectorDir, 'master_binlog'))) return t.skip('no 3.5.5 binlog vectors');
    const { dir } = runVectors(vectorDir, '3.5', ['phase1_pre_sync.redis', 'phase2_post_sync.redis', 'phase3_psetex_stall.redis'], [1795371781618, 1795371789614, 1795371814000]);
    cleanup.push(dir);
    compareWithReal(vectorDir, dir);
  });
});
