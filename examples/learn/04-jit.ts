// Step 4: what the kernel runs. One program, loaded twice: once with a hash map, once with an
// array map. For each, the instructions clang emitted beside the ones the verifier left after
// its rewrites (read back from the kernel), and the size of the x86-64 code the JIT made of them.
// Run: sudo bpfkit learn 4
import { BPF, PROG_TYPE, disassemble, formatDisasm, programInfo, programInstructions, programMachineCode } from 'bcc-node-bindings';
import { stepOptions } from './lab.ts';
import { clangInstructions } from './lab-verifier.ts';

stepOptions('learn 4', 'usage: bpfkit learn 4   (loads one program with two kinds of map; nothing runs)', null);

// Counts system calls by number (the second argument of raw_syscalls:sys_enter), in 1024 slots.
const program = (map: string) => `
  ${map}
  int count(struct bpf_raw_tracepoint_args *ctx) {
    u32 nr = ctx->args[1] & 1023;
    u64 *n = counts.lookup(&nr);
    if (n) __sync_fetch_and_add(n, 1);
    return 0;
  }`;
const MAPS = { hash: 'BPF_HASH(counts, u32, u64, 1024);', array: 'BPF_ARRAY(counts, u64, 1024);' };

const side = (left: string[], right: string[]): string => Array.from(
  { length: Math.max(left.length, right.length) },
  (_, i) => `  ${(left[i] ?? '').padEnd(40)} ${right[i] ?? ''}`.trimEnd()).join('\n');

const sizes: string[] = [];
for (const [kind, map] of Object.entries(MAPS)) {
  const bpf = new BPF({ text: program(map), autoAttach: false });
  try {
    const { fd } = bpf.loadFunc('count', PROG_TYPE.RAW_TRACEPOINT);
    const clang = clangInstructions(bpf, 'count');
    const emitted = formatDisasm(disassemble(clang)).split('\n');
    const runs = formatDisasm(disassemble(programInstructions(fd), { translated: true })).split('\n');
    console.log(`With ${map}`);
    console.log(side(['clang emitted:', ...emitted], ['the kernel runs (after the verifier):', ...runs]));
    const info = programInfo(fd);
    const native = programMachineCode(fd);
    console.log(`  native code: ${info.jitedBytes} bytes (programMachineCode: ${native.length}); first 16: ${native.subarray(0, 16).toString('hex').replace(/(..)/g, '$1 ').trim()}\n`);
    sizes.push(`${kind}: ${clang.length / 8} instructions from clang, ${info.xlatedInsns} instructions after the verifier, ${info.jitedBytes} bytes of native code`);
  } finally {
    bpf.close();
  }
}
console.log(sizes.join('\n'));
