// Step 3: the verifier says no. Three programs the kernel refuses to load (a map value used
// without its NULL check, an index it cannot bound, a loop it cannot bound), each with the
// verifier's own log and notes on its key lines, then the same program fixed and loaded.
// The programs are in 03-verifier.bpf.c. Run: sudo bpfkit learn 3
import { BPF, PROG_TYPE, isBpfError } from 'bcc-node-bindings';
import { courseFile, stepOptions } from './lab.ts';
import { annotate, processed, type Notes } from './lab-verifier.ts';

stepOptions('learn 3', 'usage: bpfkit learn 3   (loads six small programs; nothing runs)', null);

// head/tail: the log lines shown; the loop's log is the same body 8192 times, its last round is enough.
const CASES: Array<{ bad: string; fixed: string; head: number; tail: number; notes: Notes; means: string }> = [
  { bad: 'no_null_check', fixed: 'null_checked', head: 40, tail: 0,
    notes: [[/call bpf_map_lookup_elem/, 'R0 is a map value OR NULL (id=1 ties the copies of this pointer together)'],
      [/r1 = \*\(u64 \*\)\(r0/, 'a load through R0 before any "if r0 == 0x0"']],
    means: 'the lookup returns NULL for a pid not in the map; fixed with "if (n) *n += 1;"' },
  { bad: 'out_of_bounds', fixed: 'bounds_checked', head: 40, tail: 0,
    notes: [[/call bpf_get_prandom_u32/, 'R0 is any 64-bit number'],
      [/r0 >>= 32/, 'the u32 index: 0 to 0xffffffff'],
      [/r0 <<= 3\s/, 'times 8 bytes: up to 0x7fffffff8, and the value is 32 bytes'],
      [/r6 \+= r0/, 'the pointer into the map value now has that unbounded offset']],
    means: 's->n[i] with any u32 i; fixed with "if (i >= 4) return 0;": on the path that reads, i is 0..3' },
  { bad: 'unbounded_loop', fixed: 'bounded_loop', head: 0, tail: 14,
    notes: [[/r6 \+= r0/, 'R6 (the sum) grows by any u32 each time round'],
      [/r7 \+= -1/, 'R7 counts down from n (read from the map: up to 0xffffffff)'],
      [/goto pc-\d+/, 'back to the top: the body is walked again, R7 one lower'],
      [/too complex/, 'it gave up after 8192 jumps on one path, long before 4 billion']],
    means: 'the bound comes from a map and can be 2^32-1; fixed with a bound of 16 the compiler unrolls, n still applying below it' },
];

const bpf = new BPF({ srcFile: courseFile('03-verifier.bpf.c'), autoAttach: false });
try {
  for (const c of CASES) {
    try {
      bpf.loadFunc(c.bad, PROG_TYPE.TRACEPOINT, -1, { verifierLog: 1 });
      console.log(`${c.bad}: LOADED (this kernel accepts it)`);
    } catch (err) {
      if (!isBpfError(err) || err.code !== 'VERIFIER') throw err;
      console.log(`${c.bad}: REJECTED. The verifier's log:`);
      console.log(annotate(err.verifierLog ?? '', c.notes, c.head, c.tail));
      console.log(`  what it means: ${c.means}`);
    }
    try {
      const fixed = bpf.loadFunc(c.fixed, PROG_TYPE.TRACEPOINT, -1, { verifierLog: 4 });
      console.log(`${c.fixed}: LOADED, ${processed(fixed.verifierLog)}\n`);
    } catch (err) {   // a fix you changed that the verifier still refuses: its log, as above
      if (!isBpfError(err) || err.code !== 'VERIFIER') throw err;
      console.log(`${c.fixed}: REJECTED\n${annotate(err.verifierLog ?? '', [], c.head, c.tail)}\n`);
    }
  }
} finally {
  bpf.close();
}
