// The compile cache: hits skip compiling (and never map libbcc), and an entry that cannot be
// trusted — built for another kernel, truncated, someone else's, writable by others — is
// ignored and rebuilt, never loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BPF, type HashTable } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';

const PROGRAM = 'BPF_HASH(seen, u32, u64); RAW_TRACEPOINT_PROBE(sys_enter) { u32 k = 1; seen.increment(k); return 0; }';

const made: string[] = [];
process.on('exit', () => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });

function withCacheDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-cache-'));
  made.push(dir);
  fs.chmodSync(dir, 0o700);
  process.env.BPFKIT_COMPILE_CACHE_DIR = dir;
  return dir;
}

function entryFile(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 1);
  return path.join(dir, files[0]);
}

function loadAndCheck(): string {
  const bpf = new BPF({ text: PROGRAM });
  try {
    const seen = bpf.table<HashTable<number, bigint>>('seen');
    for (let i = 0; i < 50 && seen.get(1) === undefined; i++) execFileSync('true');
    assert.ok((seen.get(1) ?? 0n) > 0n, 'the loaded program counts');
    return bpf.cacheStatus;
  } finally {
    bpf.close();
  }
}

test('the first load compiles and stores; the second comes from the cache, owner-only', (t) => {
  if (!needsBpf(t)) return;
  const dir = withCacheDir();
  assert.equal(loadAndCheck(), 'miss');
  assert.equal(loadAndCheck(), 'hit');
  const st = fs.statSync(entryFile(dir));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, process.geteuid!());
});

const tamperings: Array<[string, (file: string) => void, RegExp]> = [
  ['built for another kernel release', (file) => {
    const entry = JSON.parse(fs.readFileSync(file, 'utf8'));
    entry.kernelRelease = '5.4.0-other';
    fs.writeFileSync(file, JSON.stringify(entry));
  }, /^rejected: built for kernel 5\.4\.0-other$/],
  ['truncated', (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)), /^rejected: corrupt or truncated$/],
  ['owned by another user', (file) => fs.chownSync(file, 65534, 65534), /^rejected: owned by uid 65534$/],
  ['writable by others', (file) => fs.chmodSync(file, 0o666), /^rejected: writable by others$/],
  ['with instructions cut short', (file) => {
    const entry = JSON.parse(fs.readFileSync(file, 'utf8'));
    entry.functions[0].insns = entry.functions[0].insns.slice(0, 6);
    fs.writeFileSync(file, JSON.stringify(entry));
  }, /^rejected: not a valid artifact/],
];

for (const [what, tamper, expected] of tamperings) {
  test(`a cache entry ${what} is rejected and rebuilt`, (t) => {
    if (!needsBpf(t)) return;
    const dir = withCacheDir();
    loadAndCheck();
    tamper(entryFile(dir));
    assert.match(loadAndCheck(), expected);
    assert.equal(loadAndCheck(), 'hit', 'the rebuilt entry is used next time');
  });
}

test('a program loaded from the cache never maps libbcc (and LLVM) into the process', (t) => {
  if (!needsBpf(t)) return;
  const dir = withCacheDir();
  const probe = path.resolve(import.meta.dirname, '../fixtures/programs/cache-probe.ts');
  const run = () => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', probe], { env: { ...process.env, BPFKIT_COMPILE_CACHE_DIR: dir } }).toString());
  const first = run();
  const second = run();
  assert.equal(first.status, 'miss');
  assert.equal(first.libbccMapped, false, 'compiling happens in a child process');
  assert.equal(second.status, 'hit');
  assert.equal(second.libbccMapped, false);
});

test('BPFKIT_NO_CACHE=1 compiles every time', (t) => {
  if (!needsBpf(t)) return;
  withCacheDir();
  process.env.BPFKIT_NO_CACHE = '1';
  try {
    assert.equal(loadAndCheck(), 'off');
    assert.equal(loadAndCheck(), 'off');
  } finally {
    delete process.env.BPFKIT_NO_CACHE;
  }
});
