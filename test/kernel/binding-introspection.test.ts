// What the binding shows of a program beyond its maps, against the real kernel: the verifier's
// log of a load that succeeded and of one it refused, the instructions the kernel runs and the
// JIT's machine code, the kernel's run statistics, and socket filters on a raw socket. The
// course (examples/learn/) is built on these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import dgram from 'node:dgram';
import {
  BpfError, PROG_TYPE, ArrayTable, HashTable, disassemble, enableRunStats, programInfo, programInstructions,
  programMachineCode, loadedProgramIds,
} from 'bcc-node-bindings';
import { workload } from '../helpers/workloads.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { newBpf } from '../helpers/bpf.ts';

const GETPPID = process.arch === 'arm64' ? 173 : 110;

const COUNTER = `
  BPF_HASH(calls, u32, u64);
  int count(struct bpf_raw_tracepoint_args *ctx) {
    if (ctx->args[1] != ${GETPPID}) return 0;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    calls.increment(pid);
    return 0;
  }
  int unchecked(struct bpf_raw_tracepoint_args *ctx) {
    u32 pid = 1;
    u64 *n = calls.lookup(&pid);
    return *n;   /* no NULL check: refused */
  }`;

test('loadFunc returns the verifier\'s log of a load it asked for; a refused load carries the whole log', (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: COUNTER, autoAttach: false });
  try {
    const stats = bpf.loadFunc('count', PROG_TYPE.RAW_TRACEPOINT, -1, { verifierLog: 4 });
    assert.match(stats.verifierLog ?? '', /^processed \d+ insns \(limit \d+\)/m);
    assert.doesNotMatch(stats.verifierLog ?? '', /^0: /m, 'level 4 is the statistics only');
    const before = loadedProgramIds().length;
    assert.throws(() => bpf.loadFunc('unchecked', PROG_TYPE.RAW_TRACEPOINT), (err: unknown) => {
      assert.ok(err instanceof BpfError && err.code === 'VERIFIER');
      // The whole log: from the first instruction to the statistics.
      assert.match(err.verifierLog ?? '', /^0: R1=ctx\(.*\) R10=fp0$/m);
      assert.match(err.verifierLog ?? '', /R0(_w)?=map_value_or_null\(id=\d+,/);
      assert.match(err.verifierLog ?? '', /invalid mem access 'map_value_or_null'\nprocessed \d+ insns/);
      return true;
    });
    assert.equal(loadedProgramIds().length, before);
  } finally {
    bpf.close();
  }
});

test('the translated instructions and the machine code are as long as the kernel\'s program info says', (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: COUNTER, autoAttach: false });
  try {
    const { fd } = bpf.loadFunc('count', PROG_TYPE.RAW_TRACEPOINT);
    const info = programInfo(fd);
    const insns = programInstructions(fd);
    assert.equal(insns.length, info.xlatedInsns * 8);
    assert.equal(programMachineCode(fd).length, info.jitedBytes);
    const listing = disassemble(insns);
    assert.equal(listing.at(-1)?.text, 'exit');
    assert.ok(listing.some((l) => l.text.startsWith('call ')), 'the helper calls are there');
  } finally {
    bpf.close();
  }
});

test('with run statistics on, the kernel counts exactly the runs of a program', async (t) => {
  if (!needsBpf(t)) return;
  const bpf = newBpf({ text: COUNTER.replace(/int unchecked[^]*$/, ''), autoAttach: false });
  const stats = enableRunStats();
  try {
    bpf.attachRawTracepoint({ tp: 'sys_enter', fnName: 'count' });
    const { fd } = bpf.loadFunc('count', PROG_TYPE.RAW_TRACEPOINT);
    const child = spawn(workload('getppid'), ['5000'], { stdio: 'ignore' });
    await once(child, 'exit');
    assert.equal(bpf.table<HashTable<number, bigint>>('calls').get(child.pid!), 5000n);
    const info = programInfo(fd);
    assert.ok(info.runCount >= 5000n, `runs ${info.runCount} (every system call of the machine)`);
    assert.ok(info.runTimeNs > 0n);
  } finally {
    stats.close();
    bpf.close();
  }
});

test('a socket filter on a raw socket on lo sees each UDP datagram sent to a port', async (t) => {
  if (!needsBpf(t)) return;
  const receiver = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const port = receiver.address().port;
  const bpf = newBpf({
    text: `
      #include <uapi/linux/in.h>
      #include <uapi/linux/if_ether.h>
      #include <uapi/linux/if_packet.h>
      #include <uapi/linux/ip.h>
      #include <uapi/linux/udp.h>
      BPF_ARRAY(seen, u64, 2);   /* [0] arriving, [1] leaving: lo shows each packet both ways */
      int on_packet(struct __sk_buff *skb) {
        if (load_half(skb, offsetof(struct ethhdr, h_proto)) != ETH_P_IP) return 0;
        if (load_byte(skb, ETH_HLEN + offsetof(struct iphdr, protocol)) != IPPROTO_UDP) return 0;
        if (load_half(skb, ETH_HLEN + sizeof(struct iphdr) + offsetof(struct udphdr, dest)) != PORT) return 0;
        u32 slot = skb->pkt_type == PACKET_OUTGOING;
        seen.increment(slot);
        return 0;
      }`,
    cflags: [`-DPORT=${port}`],
    autoAttach: false,
  });
  const sender = dgram.createSocket('udp4');
  try {
    const socketFd = bpf.attachRawSocket('on_packet', 'lo');
    assert.ok(socketFd > 2);
    assert.deepEqual(bpf.links().map((l) => [l.kind, l.target, l.fnName]), [['socket_filter', 'lo', 'on_packet']]);
    let received = 0;
    const all = new Promise<void>((resolve) => receiver.on('message', () => { if (++received === 20) resolve(); }));
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve, reject) => sender.send('x', port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await all;
    const seen = bpf.table<ArrayTable<bigint>>('seen');
    assert.deepEqual([seen.get(0), seen.get(1)], [20n, 20n]);
  } finally {
    sender.close();
    receiver.close();
    bpf.close();
  }
  assert.throws(() => bpf.attachRawSocket('on_packet', 'lo'), /closed/);
});

test('a program LLVM gives up on (it ends the compiler process) is a COMPILE error with LLVM\'s reason', (t) => {
  if (!needsBpf(t)) return;
  // clang turns this loop into a closed form needing a 128-bit multiply, which the BPF back end
  // cannot call: LLVM prints why and exit()s, so the reason must survive the process.
  assert.throws(() => newBpf({
    text: `
      BPF_ARRAY(limit, u32, 1);
      BPF_ARRAY(total, u64, 1);
      int sum_up(void *ctx) {
        u32 zero = 0;
        u32 *max = limit.lookup(&zero);
        if (!max) return 0;
        u64 n = *max, sum = 0;
        if (n > 16) n = 16;
        for (u64 i = 0; i < n; i++) sum += i * 3;
        u64 *out = total.lookup(&zero);
        if (out) *out = sum;
        return 0;
      }`,
    autoAttach: false,
  }), (err: unknown) => {
    assert.ok(err instanceof BpfError && err.code === 'COMPILE', String(err));
    assert.match(err.message, /^the compiler ended without an answer \(status 1\): .*in function sum_up.*__multi3' is not supported/);
    return true;
  });
});
