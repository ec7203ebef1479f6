// Steps 3, 4 and 9 of the course (examples/learn/) run as the reader runs them, and their output
// is checked for what their pages promise: the rejected programs are rejected with the verifier's
// own message and the fixed ones load; the kernel's translated instructions read as eBPF assembly
// with the calls resolved; the heavy program ran exactly once per workload call. No timings are
// asserted, only that the figures are there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { PROG_TYPE, disassemble, programInfo, programInstructions } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { newBpf } from '../helpers/bpf.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function step(file: string, args: string[] = []): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `examples/learn/${file}`, ...args],
      { cwd: ROOT, maxBuffer: 16 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** The lines of `text` from the one starting with `from` up to (not including) the next blank line. */
function section(text: string, from: string): string {
  const start = text.indexOf(from);
  assert.ok(start >= 0, `no "${from}" in:\n${text}`);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end < 0 ? undefined : end);
}

test('step 3: the three programs are rejected with the verifier\'s message, their fixes load with their insn count', async (t) => {
  if (!needsBpf(t)) return;
  const { stdout, stderr, code } = await step('03-verifier.ts');
  assert.equal(code, 0, stderr);
  const nullCheck = section(stdout, 'no_null_check: REJECTED');
  // The register states' wording is the kernel's: 6.1 writes R0=map_value_or_null(id=1,off=0,ks=4,vs=8,imm=0).
  assert.match(nullCheck, /call bpf_map_lookup_elem#1 +; R0=map_value_or_null\(id=1,[^)]*ks=4,vs=8[^)]*\)   <- /);
  assert.match(nullCheck, /^ {4}R0 invalid mem access 'map_value_or_null'$/m);
  assert.match(nullCheck, /^null_checked: LOADED, processed \d+ insns$/m);
  const bounds = section(stdout, 'out_of_bounds: REJECTED');
  assert.match(bounds, /R6(_w)?=map_value\([^)]*ks=4,vs=32,[^)]*umax=(0x7fffffff8|34359738360)/);
  assert.match(bounds, /^ {4}R6 unbounded memory access, make sure to bounds check any such access$/m);
  assert.match(bounds, /^bounds_checked: LOADED, processed \d+ insns$/m);
  const loop = section(stdout, 'unbounded_loop: REJECTED');
  assert.match(loop, /^ {4}… \d+ lines not shown …$/m);
  assert.match(loop, /^ {4}The sequence of 8193 jumps is too complex\.   <- /m);
  assert.match(loop, /^bounded_loop: LOADED, processed \d+ insns$/m);
  assert.equal(stdout.match(/: REJECTED/g)?.length, 3);
  assert.equal(stdout.match(/: LOADED, processed \d+ insns/g)?.length, 3);
});

test('step 3: a bad option is one line on stderr and status 2', async () => {
  const { stderr, code, stdout } = await step('03-verifier.ts', ['--bogus']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.equal(stderr, 'learn 3: unknown option --bogus (--help shows the options)\n');
});

test('step 4: clang\'s instructions beside the kernel\'s, the hash lookup resolved and the array lookup inlined', async (t) => {
  if (!needsBpf(t)) return;
  const { stdout, stderr, code } = await step('04-jit.ts');
  assert.equal(code, 0, stderr);
  const hash = section(stdout, 'With BPF_HASH');
  const array = section(stdout, 'With BPF_ARRAY');
  // Left column: what clang emitted, the same for both maps.
  for (const listing of [hash, array]) {
    assert.match(listing, /^ {2}7: \(85\) call bpf_map_lookup_elem#1 +\S/m);
    assert.match(listing, /^ {2}3: \(18\) r1 = map\[fd:0\] +3: \(18\) r1 = map\[id:\d+\]$/m);
    assert.match(listing, /^ {2}native code: (\d+) bytes \(programMachineCode: \1\); first 16:( [0-9a-f]{2}){16}$/m);
  }
  assert.match(hash, / 7: \(85\) call __htab_map_lookup_elem#\d+$/m);
  assert.match(hash, / 9: \(07\) r0 \+= 56$/m);
  assert.doesNotMatch(array.replace(/^ {2}\S.{39}/gm, ''), /call/, 'no call left in the array program');
  assert.match(array, / 9: \(35\) if r0 >= 0x400 goto pc\+3$/m);
  assert.match(stdout, /^hash: 13 instructions from clang, 15 instructions after the verifier, \d+ bytes of native code$/m);
  assert.match(stdout, /^array: 13 instructions from clang, 19 instructions after the verifier, \d+ bytes of native code$/m);
});

test('the kernel\'s translated dump of a known program disassembles to its resolved calls and its map ids', (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ autoAttach: false, text: `
    BPF_HASH(last, u32, u64, 64);
    int stamp(struct bpf_raw_tracepoint_args *ctx) {
      u32 nr = ctx->args[1] & 63;
      u64 now = bpf_ktime_get_ns();
      u64 *seen = last.lookup(&nr);
      if (seen) *seen = now;
      return 0;
    }` });
  try {
    const { fd } = bpf.loadFunc('stamp', PROG_TYPE.RAW_TRACEPOINT);
    const texts = disassemble(programInstructions(fd), { translated: true }).map((l) => l.text);
    const calls = texts.filter((s) => s.startsWith('call '));
    assert.deepEqual(calls.map((s) => s.replace(/#-?\d+$/, '')), ['call bpf_ktime_get_ns', 'call __htab_map_lookup_elem']);
    assert.deepEqual(texts.filter((s) => s.includes('map[')), [`r1 = map[id:${programInfo(fd).mapIds[0]}]`]);
    assert.equal(texts.at(-1), 'exit');
  } finally {
    bpf.close();
  }
});

test('step 9: both programs ran once per workload call, with their cost shown; a helper refused by program type', async (t) => {
  if (!needsBpf(t)) return;
  const { stdout, stderr, code } = await step('09-safety.ts');
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^no program: +calls=100000 ns_per_call=\d+\.\d$/m);
  for (const [label, loops] of [['light', 0], ['heavy', 2000]]) {
    const m = new RegExp(`^${label} program: +calls=100000 ns_per_call=\\d+\\.\\d  counted=(\\d+)  runs=(\\d+)  ns_per_run=\\d+\\.\\d  ` +
      `\\(loop of ${loops}, verifier: processed \\d+ insns\\)$`, 'm').exec(stdout);
    assert.ok(m, `no ${label} line in:\n${stdout}`);
    // Counted by the program after its name check: exactly the workload's calls. The kernel's run
    // count also has every other process's getppid while the program was attached.
    assert.equal(Number(m[1]), 100000);
    assert.ok(Number(m[2]) >= 100000, `runs ${m[2]}`);
  }
  assert.match(stdout, /^wrong_helper, a tracepoint program calling bpf_skb_load_bytes .*: REJECTED$/m);
  assert.match(stdout, /^ {4}6: \(85\) call bpf_skb_load_bytes#26   <- /m);
  // Older kernels (6.1) say `unknown func` for the same refusal.
  assert.match(stdout, /^ {4}(program of this type cannot use helper|unknown func) bpf_skb_load_bytes#26$/m);
});
