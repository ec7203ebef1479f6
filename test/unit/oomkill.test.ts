// oomkill's records, lines and options without a kernel: the record decoded field by field,
// bcc's line and the JSON object for each attach point's record, tracefs format parsing, and the
// metrics collector's series limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError, parseArgs } from '../../lib/run/cli.ts';
import {
  COMM_LEN, HEADER, OOM_EVENT_OFFSETS as O, OOM_EVENT_SIZE, OOM_TOTAL_PAGES, OOM_VICTIM_COMM, OOM_VICTIM_MEMORY,
  decodeOomRecord, jsonLine, killLine, pageSizeKb, rssPages,
} from '../../tools/oomkill/events.ts';
import { parseFormatFields } from '../../lib/kernel/tracepoint-fields.ts';
import { oomkillCollector } from '../../tools/oomkill/metrics.ts';
import { spec } from '../../tools/oomkill/options.ts';

interface Fields {
  ts?: bigint; trigger?: [number, string]; victim?: [number, string]; flags: number; uid?: number; adj?: number;
  totalPages?: bigint; kb?: [bigint, bigint, bigint, bigint, bigint];
}

function record(f: Fields): Buffer {
  const b = Buffer.alloc(OOM_EVENT_SIZE);
  b.writeBigUInt64LE(f.ts ?? 5_000_000_000n, O.ts);
  b.writeUInt32LE(f.trigger?.[0] ?? 0, O.trigger_pid);
  b.writeUInt32LE(f.victim?.[0] ?? 0, O.victim_pid);
  b.writeUInt32LE(f.uid ?? 0, O.victim_uid);
  b.writeInt32LE(f.adj ?? 0, O.oom_score_adj);
  b.writeUInt32LE(f.flags, O.flags);
  b.writeBigUInt64LE(f.totalPages ?? 0n, O.total_pages);
  const kb = f.kb ?? [0n, 0n, 0n, 0n, 0n];
  [O.total_vm_kb, O.anon_rss_kb, O.file_rss_kb, O.shmem_rss_kb, O.pgtables_kb].forEach((at, i) => b.writeBigUInt64LE(kb[i], at));
  b.write(f.trigger?.[1] ?? '', O.trigger_comm, COMM_LEN);
  b.write(f.victim?.[1] ?? '', O.victim_comm, COMM_LEN);
  return b;
}

const LOADAVG = '0.99 0.39 0.30 3/282 22724';

const fromTracepoint = record({
  trigger: [3297, 'ntpd'], victim: [22516, 'perl'], flags: OOM_VICTIM_COMM | OOM_VICTIM_MEMORY, uid: 1000, adj: -500,
  kb: [15402568n, 15400000n, 1024n, 8n, 30200n],
});

test('a tracepoint record decodes field by field; the line is bcc\'s, with the victim\'s resident pages', () => {
  const ev = decodeOomRecord(fromTracepoint);
  assert.deepEqual(ev, {
    ts: 5_000_000_000n, triggerPid: 3297, triggerComm: 'ntpd', victimPid: 22516, victimComm: 'perl', totalPages: null,
    memory: { uid: 1000, oomScoreAdj: -500, totalVmKb: 15402568n, anonRssKb: 15400000n, fileRssKb: 1024n, shmemRssKb: 8n, pgtablesKb: 30200n },
  });
  // (15400000 + 1024 + 8) kB in 4 kB pages, rounded down.
  assert.equal(rssPages(ev, 4), 3850258n);
  assert.equal(killLine(ev, '21:03:39', 4, LOADAVG),
    '21:03:39 Triggered by PID 3297 ("ntpd"), OOM kill of PID 22516 ("perl"), 3850258 pages, loadavg: 0.99 0.39 0.30 3/282 22724');
  // 64 kB pages (arm64, ppc64): the same memory is fewer pages.
  assert.equal(rssPages(ev, 64), 240641n);
  assert.equal(HEADER, 'Tracing OOM kills... Ctrl-C to stop.');
});

test('--json carries every value, the victim\'s memory in kB; a 15-character comm is whole', () => {
  const long = record({ trigger: [7, 'kworker/u4:1234'], victim: [8, 'abcdefghijklmno'], flags: OOM_VICTIM_COMM | OOM_VICTIM_MEMORY, kb: [10n, 8n, 4n, 0n, 4n] });
  assert.deepEqual(JSON.parse(jsonLine(decodeOomRecord(long), '01:02:03', 4, LOADAVG)), {
    time: '01:02:03', trigger_pid: 7, trigger_comm: 'kworker/u4:1234', victim_pid: 8, victim_comm: 'abcdefghijklmno',
    pages: 3, rss_pages: 3, total_pages: null, victim_uid: 0, oom_score_adj: 0,
    total_vm_kb: 10, anon_rss_kb: 8, file_rss_kb: 4, shmem_rss_kb: 0, pgtables_kb: 4, loadavg: LOADAVG,
  });
});

test('a kprobe record shows bcc\'s pages (the OOM domain\'s total) and no victim memory', () => {
  const ev = decodeOomRecord(record({ trigger: [1, 'a'], victim: [2, 'b'], flags: OOM_VICTIM_COMM | OOM_TOTAL_PAGES, totalPages: 3850642n }));
  assert.equal(ev.memory, null);
  assert.equal(killLine(ev, '00:00:00', 4, LOADAVG), `00:00:00 Triggered by PID 1 ("a"), OOM kill of PID 2 ("b"), 3850642 pages, loadavg: ${LOADAVG}`);
  const json = JSON.parse(jsonLine(ev, '00:00:00', 4, LOADAVG));
  assert.deepEqual([json.pages, json.rss_pages, json.total_pages, json.victim_uid, json.anon_rss_kb], [3850642, null, 3850642, null, null]);
});

test('a PID-only record leaves what it does not know as "?" in the line and null in JSON', () => {
  const ev = decodeOomRecord(record({ trigger: [1, 'a'], victim: [2, 'junk'], flags: 0 }));
  assert.equal(ev.victimComm, null);
  assert.equal(killLine(ev, '00:00:00', 4, LOADAVG), `00:00:00 Triggered by PID 1 ("a"), OOM kill of PID 2 ("?"), ? pages, loadavg: ${LOADAVG}`);
  const json = JSON.parse(jsonLine(ev, '00:00:00', 4, LOADAVG));
  assert.deepEqual([json.victim_comm, json.pages, json.total_pages], [null, null, null]);
});

test('tracefs format files: field names without the common header, data_loc and arrays included', () => {
  const format = [
    'name: mark_victim', 'ID: 609', 'format:',
    '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
    '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;', '',
    '\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;',
    '\tfield:__data_loc char[] comm;\toffset:12;\tsize:4;\tsigned:0;',
    '\tfield:unsigned long total_vm;\toffset:16;\tsize:8;\tsigned:0;',
    '\tfield:char comm2[16];\toffset:28;\tsize:16;\tsigned:0;', '',
    'print fmt: "pid=%d", REC->pid',
  ].join('\n');
  assert.deepEqual(parseFormatFields(format), ['pid', 'comm', 'total_vm', 'comm2']);
});

test('the page size comes from /proc/self/smaps, 4 kB when it cannot be read', () => {
  assert.ok([4, 16, 64].includes(pageSizeKb()));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomkill-unit-'));
  try {
    fs.writeFileSync(path.join(dir, 'smaps'), '00400000-00452000 r-xp 00000000 08:02 173521 /bin/x\nSize: 328 kB\nKernelPageSize:       64 kB\n');
    assert.equal(pageSizeKb(path.join(dir, 'smaps')), 64);
    assert.equal(pageSizeKb(path.join(dir, 'missing')), 4);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('metrics: kills by victim comm, at most --series-limit names, the rest counted as dropped', () => {
  let flushed = 0;
  const collector = oomkillCollector(2, { kind: 'ring', flush: () => { flushed++; }, lost: () => 3n });
  for (const comm of ['perl', 'java', 'perl', 'python3', null]) collector.record({ victimComm: comm });
  const [family] = collector.collect();
  assert.equal(flushed, 1, 'a scrape drains the buffer first');
  assert.equal(family.name, 'bpfkit_oom_kills_total');
  assert.ok(family.type === 'counter');
  assert.deepEqual(family.samples, [{ labels: { comm: 'perl' }, value: 2n }, { labels: { comm: 'java' }, value: 1n }]);
  assert.equal(collector.dropped(), 2);
  assert.equal(collector.lost(), 3n);
});

test('options: bcc\'s oomkill has none; ours are the metrics ones, checked', () => {
  const o = parseArgs(spec, ['--metrics', '9435', '--series-limit', '10']);
  assert.equal(o['series-limit'], 10);
  assert.throws(() => parseArgs(spec, ['5']), UsageError);
  assert.throws(() => parseArgs(spec, ['--series-limit', '0']), UsageError);
  assert.throws(() => parseArgs(spec, ['-p', '1']), UsageError);
});
