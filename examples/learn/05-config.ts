// Step 5, maps as configuration: a program on the getppid() tracepoint counts only the PIDs in
// a filter map. Two known workers make known numbers of calls; the step filters to A, then writes B
// into the map while the program runs (same program id and tag: no reload). Then per-CPU maps: one
// shared value (plain ++, atomic add) against a per-CPU array, with both workers on two CPUs at once.
// Run: sudo bpfkit learn 5
import os from 'node:os';
import { BPF, programInfo, type ArrayTable, type HashTable, type PerCpuTable } from 'bcc-node-bindings';
import { stepOptions, workload } from './lab.ts';
import { Worker } from './lab-maps.ts';

const { seconds } = stepOptions('learn 5', 'usage: bpfkit learn 5 [--seconds N]   (N: how long the per-CPU race runs)', { default: 2, help: 'how long the per-CPU race runs' });

const bpf = new BPF({ text: `
  BPF_HASH(filter, u32, u8, 64);          // configuration: the PIDs to count, written by user space
  BPF_HASH(counts, u32, u64, 64);         // getppid() calls per counted PID
  BPF_ARRAY(shared, u64, 2);              // one value for all CPUs: [0] by plain ++, [1] by atomic add
  BPF_PERCPU_ARRAY(percpu, u64, 1);       // one value per CPU
  TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (!filter.lookup(&pid)) return 0;   // looked up on every call: a change applies at once
    counts.increment(pid);                // bcc's increment is an atomic add
    int plain = 0, atomic = 1;
    u64 *v = shared.lookup(&plain);
    if (v) (*v)++;                        // load, add, store: two CPUs can interleave and lose one
    v = shared.lookup(&atomic);
    if (v) __sync_fetch_and_add(v, 1);    // one locked instruction: the CPUs take turns on the line
    v = percpu.lookup(&plain);
    if (v) (*v)++;                        // this CPU's own copy: no other CPU ever writes it
    return 0;
  }` });
const { fd } = bpf.loadFunc('tracepoint__syscalls__sys_enter_getppid', BPF.PROG_TYPE.TRACEPOINT);
const identity = (): string => { const info = programInfo(fd); return `program id ${info.id}, tag ${info.tag}`; };
const filter = bpf.table<HashTable<number, number>>('filter');
const counts = bpf.table<HashTable<number, bigint>>('counts');
const [shared, percpu] = [bpf.table<ArrayTable<bigint>>('shared'), bpf.table<PerCpuTable<number, bigint>>('percpu')];

const otherCpu = 1 % os.availableParallelism();
const [a, b] = [new Worker(workload('maps-worker'), 0), new Worker(workload('maps-worker'), otherCpu)];
const counted = (): string => `the program counted A ${counts.get(a.pid) ?? 0n}, B ${counts.get(b.pid) ?? 0n}`;
console.log(`worker A: pid ${a.pid} on CPU 0; worker B: pid ${b.pid} on CPU ${otherCpu}`);
console.log(`loaded and attached: ${identity()}`);

filter.set(a.pid, 1);
let [na, nb] = await Promise.all([a.command('calls 10'), b.command('calls 20')]);
console.log(`\nfilter = {A}: A made ${na} getppid calls, B made ${nb}; ${counted()}`);

filter.delete(a.pid);                     // two map writes from user space, no reload
filter.set(b.pid, 1);
[na, nb] = await Promise.all([a.command('calls 30'), b.command('calls 40')]);
console.log(`filter = {B}: A made ${na} more, B made ${nb}; ${counted()}`);
console.log(`still running: ${identity()}`);

filter.set(a.pid, 1);                     // both, and the counters back to 0
shared.clear(); percpu.clear();
[na, nb] = await Promise.all([a.command(`spin ${seconds * 1000}`), b.command(`spin ${seconds * 1000}`)]);
const [plain, atomic] = [shared.get(0) ?? 0n, shared.get(1) ?? 0n];
const perCpu = percpu.get(0) ?? [];
const total = BigInt(na + nb);
console.log(`\nfilter = {A, B}, both calling for ${seconds} s at once: A made ${na}, B made ${nb}, ${total} in all`);
console.log(`  one shared value, plain ++:             ${plain}   (${total - plain} increments lost)`);
console.log(`  one shared value, __sync_fetch_and_add: ${atomic}`);
console.log(`  per-CPU array: ${perCpu.map((v, cpu) => `CPU ${cpu} ${v}`).join(', ')}; sum ${perCpu.reduce((s, v) => s + v, 0n)}`);
await Promise.all([a.end(), b.end()]);
bpf.close();
