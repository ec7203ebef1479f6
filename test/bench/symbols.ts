// Symbolisation engines measured side by side, to choose the binding's (README, "Symbols"):
// ours (bcc-node-bindings/src/symbols), libbcc's own (bcc_symcache_*), elfutils' libdwfl (what
// perf uses). The target is a live Node process: /usr/bin/node is a 100 MB C++ binary with a full
// .symtab, plus libc and libstdc++ — the heaviest files a profiler here meets.
//
//   node --import tsx test/bench/symbols.ts
//
// Each engine runs in a fresh child process (so that RSS and first-call cost are its own) on the
// same 20,000 distinct addresses spread over the target's executable file mappings: the first
// 10,000 cold (files parsed on the way), the next 10,000 warm. Needs root for libbcc only when the
// target is not our own child (it is here).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import koffi from 'koffi';

const BATCH = 10_000;

interface Result {
  engine: string;
  setupMs: number;
  coldMs: number;
  warmMs: number;
  rssAddedMb: number;
  /** RSS added once garbage is collected: what the engine keeps for the next batch. */
  keptMb: number;
  named: number;
  names: Array<string | null>;
}

type Engine = (pid: number) => { resolve(addrs: bigint[]): Array<string | null> };

const engines: Record<string, Engine> = {};

async function loadEngines(): Promise<void> {
  const { Symbolizer } = await import('../../lib/bcc-node-bindings/src/index.ts');
  engines.ours = (pid) => {
    const symbols = new Symbolizer();
    return { resolve: (addrs) => symbols.user(pid, addrs).map((f) => f.name) };
  };

  const { bccSyms, BCC_SYM_FUNCTIONS } = await import('../../lib/bcc-node-bindings/src/ffi/bcc-syms.ts');
  engines.libbcc = (pid) => {
    const bcc = bccSyms();
    const cache = bcc.symcache_new(pid, { use_debug_file: 1, check_debug_file_crc: 1, lazify_symbols: 1, use_symbol_type: BCC_SYM_FUNCTIONS });
    return {
      resolve: (addrs) => addrs.map((addr) => {
        const sym = { name: null, demangle_name: null, module: null, offset: 0n };
        if (bcc.symcache_resolve(cache, addr, sym) !== 0) return null;
        const name = sym.demangle_name ? (koffi.decode(sym.demangle_name, 'char', -1) as string) : null;
        bcc.symbol_free_demangle_name(sym);
        return name;
      }),
    };
  };

  engines.libdwfl = (pid) => {
    const dw = dwfl();
    const handle = dw.begin(dw.callbacks);
    if (dw.linuxProcReport(handle, pid) !== 0) throw new Error('dwfl_linux_proc_report failed');
    dw.reportEnd(handle, null, null);
    return {
      resolve: (addrs) => addrs.map((addr) => {
        const mod = dw.addrmodule(handle, addr);
        if (!mod) return null;
        const name = dw.addrname(mod, addr) as string | null;
        return name ? demangleForBench(name) : null;
      }),
    };
  };
}

let demangleForBench: (name: string) => string = (n) => n;

/** libdw.so.1 (Debian's libdw1), bound for this measurement only. */
function dwfl() {
  const libc = koffi.load('libc.so.6');
  const dlopen = libc.func('void *dlopen(const char *file, int mode)');
  const dlsym = libc.func('void *dlsym(void *handle, const char *name)');
  const RTLD_NOW = 2;
  const dwHandle = dlopen('libdw.so.1', RTLD_NOW);
  if (!dwHandle) throw new Error('libdw.so.1 is not installed');
  const lib = koffi.load('libdw.so.1');
  // dwfl keeps the pointer to its callbacks: they live in memory koffi will not free.
  const Callbacks = koffi.struct('bench_dwfl_callbacks', { find_elf: 'void *', find_debuginfo: 'void *', section_address: 'void *', debuginfo_path: 'void *' });
  const callbacks = koffi.alloc(Callbacks, 1);
  koffi.encode(callbacks, Callbacks, {
    find_elf: dlsym(dwHandle, 'dwfl_linux_proc_find_elf'),
    find_debuginfo: dlsym(dwHandle, 'dwfl_standard_find_debuginfo'),
    section_address: null,
    debuginfo_path: null,
  });
  return {
    callbacks,
    begin: lib.func('void *dwfl_begin(void *callbacks)'),
    linuxProcReport: lib.func('int dwfl_linux_proc_report(void *dwfl, int pid)'),
    reportEnd: lib.func('int dwfl_report_end(void *dwfl, void *removed, void *arg)'),
    addrmodule: lib.func('void *dwfl_addrmodule(void *dwfl, uint64_t addr)'),
    addrname: lib.func('const char *dwfl_module_addrname(void *mod, uint64_t addr)'),
  };
}

function rssMb(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function worker(engine: string, pid: number, addrFile: string, outFile: string): Promise<void> {
  await loadEngines();
  const { demangle } = await import('../../lib/bcc-node-bindings/src/index.ts');
  demangleForBench = (n) => demangle(n) ?? n;
  const addrs = JSON.parse(fs.readFileSync(addrFile, 'utf8')).map((a: string) => BigInt(a)) as bigint[];
  const cold = addrs.slice(0, BATCH);
  const warm = addrs.slice(BATCH);
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = rssMb();
  const t0 = performance.now();
  const resolver = engines[engine](pid);
  const t1 = performance.now();
  const coldNames = resolver.resolve(cold);
  const t2 = performance.now();
  const warmNames = resolver.resolve(warm);
  const t3 = performance.now();
  const names = [...coldNames, ...warmNames];
  const rssAddedMb = rssMb() - rss0;
  (globalThis as { gc?: () => void }).gc?.();
  const result: Result = {
    engine, setupMs: t1 - t0, coldMs: t2 - t1, warmMs: t3 - t2, rssAddedMb, keptMb: rssMb() - rss0,
    named: names.filter((n) => n !== null).length, names,
  };
  fs.writeFileSync(outFile, JSON.stringify(result));
}

/** 2 × BATCH distinct addresses over the target's executable file mappings, in proportion to size. */
function pickAddresses(pid: number): bigint[] {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')
    .map((l) => /^([0-9a-f]+)-([0-9a-f]+) r-xp \S+ \S+ [1-9]\d*\s+\//.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number.parseInt(m[1], 16), Number.parseInt(m[2], 16)] as const);
  const total = maps.reduce((sum, [s, e]) => sum + (e - s), 0);
  // xorshift32: deterministic, so that every run (and every engine) gets the same addresses.
  let seed = 2463534242;
  const random = (): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const picked = new Set<number>();
  while (picked.size < 2 * BATCH) {
    let at = Math.floor(random() * total);
    for (const [s, e] of maps) {
      if (at < e - s) { picked.add(s + at); break; }
      at -= e - s;
    }
  }
  return [...picked].map((a) => BigInt(a));
}

async function main(): Promise<void> {
  const target = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-bench-symbols-'));
  try {
    const addrFile = path.join(dir, 'addrs.json');
    fs.writeFileSync(addrFile, JSON.stringify(pickAddresses(target.pid!).map(String)));
    const results: Result[] = [];
    for (const engine of ['ours', 'libbcc', 'libdwfl']) {
      const out = path.join(dir, `${engine}.json`);
      try {
        execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--engine', engine, String(target.pid), addrFile, out],
          { stdio: ['ignore', 'inherit', 'inherit'] });
        results.push(JSON.parse(fs.readFileSync(out, 'utf8')) as Result);
      } catch (err) {
        console.log(`${engine}: failed (${(err as Error).message.split('\n')[0]})`);
      }
    }
    const ours = results.find((r) => r.engine === 'ours');
    console.log(`target: node (pid ${target.pid}), ${2 * BATCH} distinct addresses in its executable file mappings`);
    console.log('engine    first call (setup + 10,000 cold)   10,000 warm   RSS added (after GC)   named   same name as ours');
    for (const r of results) {
      const same = ours ? r.names.filter((n, i) => n === ours.names[i]).length : 0;
      console.log(`${r.engine.padEnd(9)} ${`${(r.setupMs + r.coldMs).toFixed(0)} ms (${r.setupMs.toFixed(0)} + ${r.coldMs.toFixed(0)})`.padEnd(34)} ` +
        `${`${r.warmMs.toFixed(0)} ms`.padEnd(13)} ${`${r.rssAddedMb.toFixed(1)} MB (${r.keptMb.toFixed(1)} MB)`.padEnd(22)} ${`${r.named}`.padEnd(7)} ${same}/${r.names.length}`);
    }
  } finally {
    target.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const engineAt = process.argv.indexOf('--engine');
if (engineAt > 0) {
  const [engine, pid, addrFile, outFile] = process.argv.slice(engineAt + 1);
  await worker(engine, Number(pid), addrFile, outFile);
} else {
  await main();
}
