// test/helpers/attach.ts reads the decisions out of --explain's stderr and reports them as TAP
// diagnostics for test/vm's runner: it must read exactly what lib/run/explain.ts writes, and
// stop where the attach section does.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import { attachLines } from '../../lib/run/explain.ts';
import { explainedChoices, reportChoices } from '../helpers/attach.ts';

const SAMPLE = `tcptop: libbcc compiles against the headers of 6.12.0 (this kernel is 6.18.0)
compiled program: loaded from the compile cache (no LLVM in this process)
attach points (candidates best first; the first one this kernel has wins):
  bytes sent and received: fexit tcp_sendmsg + tcp_recvmsg
    not tracepoints sock:sock_send_length + sock:sock_recv_length: not in this kernel (Linux 6.3+)
    chosen: the first choice this kernel has
    fallback kprobes on entry and return of tcp_sendmsg + tcp_recvmsg: would also work here
  merge (-Q): none (no way to trace merge (-Q) on this kernel: raw tracepoint block_rq_merge: no such tracepoint)
  flag names (-F): the kernel's BTF
programs (as the kernel reports them):
  program id 41 kretfunc__tcp_sendmsg: tracing on fexit tcp_sendmsg
    verifier: 12 insns processed; after rewrites 12 insns; JIT 80 bytes of machine code; 4 KiB locked
maps:
  map id 7 flows: hash, key 48 B, value 16 B, max 16384 entries, 1.2 MiB locked
tcptop: ready
`;

test('each decision of the attach section, split at its first ": ", and nothing from the programs or maps after it', () => {
  assert.deepEqual(explainedChoices(SAMPLE), [
    { purpose: 'bytes sent and received', chosen: 'fexit tcp_sendmsg + tcp_recvmsg' },
    { purpose: 'merge (-Q)', chosen: 'none (no way to trace merge (-Q) on this kernel: raw tracepoint block_rq_merge: no such tracepoint)' },
    { purpose: 'flag names (-F)', chosen: 'the kernel\'s BTF' },
  ]);
});

test('no attach section (a tool run without --explain): no decisions', () => {
  assert.deepEqual(explainedChoices('compiled program: compiled now (cache miss)\nprograms (as the kernel reports them):\n'), []);
});

test('what lib/run/explain.ts writes reads back as the decisions it was given', () => {
  const a = chooseAttach('exec entry', [
    { label: 'tracepoint syscalls:sys_enter_execve', unavailable: () => 'no such tracepoint', value: 1 },
    { label: 'kprobe __x64_sys_execve', unavailable: () => null, value: 2 },
    { label: 'raw tracepoint sys_enter', unavailable: () => null, value: 3 },
  ]);
  const b = { purpose: 'syscalls traced', chosen: 'newstat, statx', rejected: [{ label: 'stat64', reason: 'other architectures' }] };
  const stderr = `${attachLines([a.choice, b]).join('\n')}\nmaps:\n`;
  assert.deepEqual(explainedChoices(stderr), [
    { purpose: 'exec entry', chosen: 'kprobe __x64_sys_execve' },
    { purpose: 'syscalls traced', chosen: 'newstat, statx' },
  ]);
});

test('each decision is one diagnostic, "attach[<tool>] <purpose>: <chosen>"', () => {
  const said: string[] = [];
  const t = { diagnostic: (message: string) => said.push(message) } as unknown as TestContext;
  reportChoices(t, 'tcptop', explainedChoices(SAMPLE).slice(0, 1));
  assert.deepEqual(said, ['attach[tcptop] bytes sent and received: fexit tcp_sendmsg + tcp_recvmsg']);
});
