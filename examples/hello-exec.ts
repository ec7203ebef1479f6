#!/bin/sh
// 2>/dev/null; exec node --import "$(dirname "$(readlink -f "$0")")/../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// hello-exec: the smallest useful tool on the binding. Prints every exec() for 5 seconds, then
// the three commands that were started most. Run: sudo node --import tsx examples/hello-exec.ts
import { BPF, type HashTable, type RingBufTable } from 'bcc-node-bindings';

const bpf = new BPF({ text: `
  struct event { u32 pid; char comm[16]; };
  BPF_RINGBUF_OUTPUT(events, 16);          // 16 pages shared by all CPUs
  BPF_HASH(counts, struct event, u64);     // key: the whole event, for a per-command count
  TRACEPOINT_PROBE(sched, sched_process_exec) {   // a stable tracepoint: works on any kernel
    struct event e = { .pid = bpf_get_current_pid_tgid() >> 32 };
    bpf_get_current_comm(&e.comm, sizeof(e.comm));
    events.ringbuf_output(&e, sizeof(e), 0);
    e.pid = 0; counts.increment(e);
    return 0;
  }` });
bpf.table<RingBufTable<{ pid: number; comm: string }>>('events')
  .open((e) => console.log(`${String(e.pid).padEnd(8)} ${e.comm}`));
setTimeout(() => {
  const top = bpf.table<HashTable<{ comm: string }, bigint>>('counts').entries().sort((a, b) => Number(b[1] - a[1]));
  for (const [key, n] of top.slice(0, 3)) console.log(`${key.comm}: ${n}`);
  bpf.close();                             // detach, unload, free the maps
}, 5000);
