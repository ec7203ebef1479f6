// Step 9: safety in practice. The verifier proved step 3's programs safe, not cheap: here a
// program with a bounded loop of 2000 rounds on sys_enter_getppid loads without complaint and
// makes every getppid on the machine much slower; the kernel's run statistics show by how much.
// Then the other half of safety: which helpers a program may call depends on its type.
// Run: sudo bpfkit learn 9
import { BPF, PROG_TYPE, enableRunStats, isBpfError, programInfo, type ArrayTable } from 'bcc-node-bindings';
import { run, stepOptions, workload } from './lab.ts';
import { annotate, processed } from './lab-verifier.ts';

stepOptions('learn 9', 'usage: bpfkit learn 9   (runs 300000 getppid calls: 100000 bare, 100000 under each program)', null);
const CALLS = 100_000;

// Both programs check the caller's name first (what every other process pays), then count the
// call; the heavy one also mixes a number LOOPS times, where the optimiser cannot remove it.
const C = `
BPF_ARRAY(seen, u64, 1);
int on_getppid(void *ctx) {
  char comm[16], want[] = "safety-getppid";
  bpf_get_current_comm(&comm, sizeof(comm));
  #pragma unroll
  for (int i = 0; i < sizeof(want); i++) if (comm[i] != want[i]) return 0;
  u64 x = bpf_get_prandom_u32();
  for (int i = 0; i < LOOPS; i++) { x = x * 6364136223846793005ULL + i; asm volatile("" : "+r"(x)); }
  u32 zero = 0;
  u64 *n = seen.lookup(&zero);
  if (n) __sync_fetch_and_add(n, 1 + (x & 0));
  return 0;
}
int wrong_helper(void *ctx) { u8 byte = 0; bpf_skb_load_bytes(ctx, 0, &byte, 1); return byte; }`;

const bin = workload('safety-getppid');
console.log(`no program:     ${(await run(bin, [String(CALLS)])).stdout.trim()}`);
for (const [label, loops] of [['light program:', 0], ['heavy program:', 2000]] as const) {
  const bpf = new BPF({ text: C, cflags: [`-DLOOPS=${loops}`], autoAttach: false });
  const stats = enableRunStats();
  try {
    const { fd, verifierLog } = bpf.loadFunc('on_getppid', PROG_TYPE.TRACEPOINT, -1, { verifierLog: 4 });
    bpf.attachTracepoint({ tp: 'syscalls:sys_enter_getppid', fnName: 'on_getppid' });
    const workloadSays = (await run(bin, [String(CALLS)])).stdout.trim();
    const { runCount, runTimeNs } = programInfo(fd);
    const counted = bpf.table<ArrayTable<bigint>>('seen').get(0);
    const perRun = runCount > 0n ? (Number(runTimeNs) / Number(runCount)).toFixed(1) : '-';
    console.log(`${label.padEnd(15)} ${workloadSays}  counted=${counted}  runs=${runCount}  ns_per_run=${perRun}  ` +
      `(loop of ${loops}, verifier: ${processed(verifierLog)})`);
    if (loops > 0) continue;
    try {
      bpf.loadFunc('wrong_helper', PROG_TYPE.TRACEPOINT, -1, { verifierLog: 1 });
    } catch (err) {
      if (!isBpfError(err) || err.code !== 'VERIFIER') throw err;
      console.log('\nwrong_helper, a tracepoint program calling bpf_skb_load_bytes (a socket-buffer helper): REJECTED');
      console.log(annotate(err.verifierLog ?? '', [[/call bpf_skb_load_bytes/, 'helper 26 works on a packet; a tracepoint program has none']], 0, 3));
      console.log('');
    }
  } finally {
    stats.close();
    bpf.close();
  }
}
