// Step 1, hello: a program on the tracepoint sched:sched_process_exec sends one event per exec()
// to user space through a ring buffer. The step runs a known workload (a process that starts
// /bin/true 5 times), prints each of its execs, and compares the count with what the workload
// did. Run: sudo bpfkit learn 1
import { BPF, type RingBufTable } from 'bcc-node-bindings';
import { run, sleep, stepOptions, workload } from './lab.ts';

const { seconds } = stepOptions('learn 1', 'usage: bpfkit learn 1 [--seconds N]', { default: 3, help: 'how long to watch for execs' });
const EXECS = 5;

const bpf = new BPF({ text: `
  struct event { u32 pid; char comm[16]; char filename[64]; };
  BPF_RINGBUF_OUTPUT(events, 16);                   // 16 pages, shared by all CPUs
  TRACEPOINT_PROBE(sched, sched_process_exec) {     // runs in the process that has just exec'd
    struct event e = { .pid = bpf_get_current_pid_tgid() >> 32 };
    bpf_get_current_comm(&e.comm, sizeof(e.comm));  // the new program's name
    TP_DATA_LOC_READ_STR(&e.filename, filename, sizeof(e.filename));   // the tracepoint's own field
    events.ringbuf_output(&e, sizeof(e), 0);        // copy the event into the ring buffer
    return 0;
  }` });

// Every exec on the machine arrives here, in the order the kernel wrote them.
type Exec = { pid: number; comm: string; filename: string };
const execs: Exec[] = [];
bpf.table<RingBufTable<Exec>>('events').open((e) => execs.push(e));

const started = Date.now();
// Started once the program is attached, so that none of its execs can be missed.
const job = await run(workload('maps-execs'), [String(EXECS), '300']);
if (job.status !== 0) throw new Error(`the workload failed (status ${job.status})`);
const children = new Set(job.stdout.split('\n').filter(Boolean).map(Number));   // it prints their PIDs
const mine = (): Exec[] => execs.filter((e) => children.has(e.pid));
// Events the kernel has written may still be on their way to this process: wait a little for them.
for (let waited = 0; mine().length < EXECS && waited < 2000; waited += 50) await sleep(50);
await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));

console.log('PID      COMM             FILENAME');
for (const e of mine()) console.log(`${String(e.pid).padEnd(8)} ${e.comm.padEnd(16)} ${e.filename}`);
console.log(`the workload (pid ${job.pid}) ran ${EXECS} execs; the program saw ${mine().length}`);
console.log(`(and ${execs.length - mine().length} other execs on this machine, the workload's own start among them, not shown)`);
bpf.close();                                        // detach, unload, free the ring buffer
