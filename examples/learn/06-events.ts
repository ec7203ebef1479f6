// Step 6: one question, "how often does this process call openat?", asked of five event types at
// once: the syscall tracepoint, the raw tracepoint under every syscall, a kprobe, a uprobe on
// libc, and cpu-clock sampling. A workload makes N openat calls; each row prints what its program
// counted beside N and the kernel's own measure of the program's cost per run.
// Run: sudo bpfkit learn 6 [N]
import path from 'node:path';
import {
  BPF, enableRunStats, isBpfError, kprobesAvailable, resolveUprobe,
  type ArrayTable, type HashTable, type StackTraceTable,
} from 'bcc-node-bindings';
import { courseFile, stepOptions, usageError, workload } from './lab.ts';
import { importedSymbol, openatNumber, runCost, sampleShare, startHeld } from './lab-events.ts';

const { seconds, rest } = stepOptions('learn 6', 'usage: bpfkit learn 6 [--seconds S] [N openat calls, default 20000]', { default: 15, help: 'the longest the workload may take' });
const N = Number(rest[0] ?? 20000);
if (rest.length > 1 || !Number.isInteger(N) || N < 1 || N > 1_000_000) usageError('learn 6', 'N must be a whole number from 1 to 1000000');
const nr = openatNumber() ?? usageError('learn 6', `no openat syscall number known for ${process.arch}`);
const bin = workload('events-open');
const sym = importedSymbol(bin, ['openat', 'openat64', 'open', 'open64']) ?? 'openat';

const stats = enableRunStats();   // the kernel times each program run from now on
const bpf = new BPF({ srcFile: courseFile('06-events.bpf.c'), cflags: [`-DOPENAT_NR=${nr}`], autoAttach: false });
bpf.attachTracepoint({ tp: 'syscalls:sys_enter_openat', fnName: 'tracepoint__syscalls__sys_enter_openat' });
bpf.attachRawTracepoint({ tp: 'sys_enter', fnName: 'raw_tracepoint__sys_enter' });
let kprobe = 'attached';
try {
  bpf.attachKprobe({ event: 'do_sys_openat2', fnName: 'on_kprobe' });
} catch (err) {
  if (!isBpfError(err) || kprobesAvailable()) throw err;
  kprobe = `not supported: ${err.message}`;
}
bpf.attachUprobe({ name: 'c', sym, fnName: 'on_uprobe' });
bpf.attachPerfEvent({ evType: 1 /* SOFTWARE */, evConfig: 0 /* CPU_CLOCK */, sampleFreq: 10000, fnName: 'on_sample' });

const held = await startHeld(bin, [String(N), '/dev/null']);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { held.kill(); bpf.close(); process.exit(sig === 'SIGINT' ? 130 : 143); });
bpf.table<ArrayTable<number>>('target').set(0, held.pid);   // the filter: from now on, this pid only
const status = await held.go(seconds);
console.log(`workload: events-open, pid ${held.pid}, made N=${N} openat calls of /dev/null (status ${status})\n`);

const counts = bpf.table<ArrayTable<bigint>>('counts');
const cost = (name: string) => {
  const fn = bpf.loadedFunctions().find((f) => f.name === name);
  if (!fn) return '(not attached)';
  const { runs, nsPerRun } = runCost(fn.fd);
  return `${String(runs).padStart(9)} runs ${String(nsPerRun).padStart(6)} ns/run`;
};
const row = (what: string, i: number, fn: string) =>
  console.log(`${what.padEnd(42)} counted ${String(counts.get(i)).padStart(7)} of ${N}  ${cost(fn)}`);
row('tracepoint syscalls:sys_enter_openat', 0, 'tracepoint__syscalls__sys_enter_openat');
row(`raw_tracepoint sys_enter (id ${nr})`, 1, 'raw_tracepoint__sys_enter');
if (kprobe === 'attached') row('kprobe do_sys_openat2', 2, 'on_kprobe');
else console.log(`${'kprobe do_sys_openat2'.padEnd(42)} ${kprobe}`);
const { path: libc, offset } = resolveUprobe({ name: 'c', sym });
row(`uprobe ${path.basename(libc)}:${sym} (0x${offset.toString(16)})`, 3, 'on_uprobe');
const s = sampleShare(bpf.table<HashTable<number, bigint>>('sampled'), bpf.table<StackTraceTable>('stacks'));
console.log(`${'perf_event cpu-clock 10000 Hz'.padEnd(42)} sampled ${String(counts.get(4)).padStart(7)} times  ${cost('on_sample')}\n` +
  `${''.padEnd(42)} where: ${s.openat} in openat, ${s.uprobe} in the uprobe's traps, ${s.kernel} elsewhere in the kernel, ${s.user} in user space`);
bpf.close();
stats.close();
