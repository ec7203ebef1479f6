// tcplife's one configuration: what to report (plain data from the options, or the exporter's
// fixed choice) and a KernelView → tcplife.bpf.c's #defines, where each probe goes and why, and
// the attach. The tool and `bpfkit exporter` both load the program through configureTcplife.
import { BpfError, type BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { sockOffsets } from '../../lib/kernel/sock-offsets.ts';
import { fdSocketOffsets } from '../../lib/kernel/offsets.ts';
import { AF_INET, AF_INET6 } from '../../lib/output/inet.ts';

export interface TcplifeConfig {
  /** -p: only connections owned by this process. */
  pid?: number;
  /** -4 / -6 */
  family?: 4 | 6;
  /** -L: local ports; the tool puts them in the `lports` map before attaching. */
  localPorts?: number[];
  /** -D: remote ports, in `rports`. */
  remotePorts?: number[];
}

export interface TcplifeProgram extends ToolProgram {
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every closed TCP connection of the machine. */
export const EXPORTER_CONFIG: TcplifeConfig = {};

// Sockets alive at once that tcplife follows (~64 bytes each in the kernel). An LRU: a socket
// whose close was missed must not hold its entry, and a full table forgets the oldest.
const MAX_SOCKETS = 16384;

// A connect/close loop closes 20,000 ends a second on two CPUs: 8 times the usual ring (4 MiB
// here, ~40,000 records) holds two seconds of that while the reader waits for a CPU. Only the
// pages a burst touched count in RSS.
const RING_GROWTH = 8;

type StateHook = 'tp' | 'raw' | 'kprobe';
type AcceptHook = { kind: 'tracepoint' | 'kprobe' | 'none'; fns: string[] };

/** struct.field pairs at their BTF offsets, or null when one is missing. */
function btfOffsets(kernel: KernelView, fields: Record<string, [string, string]>): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(fields)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) return null;
    out[name] = at;
  }
  return out;
}

// The counters (Linux 4.1+), and what tells a SYN or FIN in them from data (tcplife.bpf.c).
const BYTE_COUNTS: Record<string, [string, string]> = {
  TCP_BYTES_ACKED_OFFSET: ['tcp_sock', 'bytes_acked'],
  TCP_BYTES_RECEIVED_OFFSET: ['tcp_sock', 'bytes_received'],
  TCP_SND_UNA_OFFSET: ['tcp_sock', 'snd_una'],
  TCP_WRITE_SEQ_OFFSET: ['tcp_sock', 'write_seq'],
};
// sk_flags moved into struct sock_common in Linux 5.x (a #define keeps the name in C).
const SOCK_FLAGS = ['__sk_common.skc_flags', 'sk_flags'];


export function configureTcplife(config: TcplifeConfig, kernel: KernelView = liveKernel()): TcplifeProgram {
  // The byte counts are read from the socket at close, at this kernel's offsets; headers of
  // another kernel would read other fields without an error, so there is no fallback.
  const counters = btfOffsets(kernel, BYTE_COUNTS);
  const flags = SOCK_FLAGS.map((f) => kernel.offset('sock', f)).find((at) => at !== undefined);
  const bytes = counters && flags !== undefined ? { ...counters, SOCK_FLAGS_OFFSET: flags } : null;
  if (!bytes) {
    throw new BpfError('NOT_SUPPORTED', "needs tcp_sock.bytes_acked, bytes_received, snd_una, write_seq and sock.sk_flags from the kernel's BTF (/sys/kernel/btf/vmlinux)");
  }
  // The raw tracepoint and the kprobe read the socket's own fields.
  let fromSock: Record<string, number> | null | undefined;
  const sockFields = () => {
    if (fromSock !== undefined) return fromSock;
    const sport = kernel.offset('inet_sock', 'inet_sport');
    const fields = sockOffsets(kernel);
    return (fromSock = fields && sport !== undefined ? { ...fields, INET_SPORT_OFFSET: sport } : null);
  };
  const noSockFields = "no BTF for struct sock's fields";
  const state = chooseAttach<StateHook>('TCP state changes', [
    {
      label: 'tracepoint sock:inet_sock_set_state',
      unavailable: () => (kernel.tracepoint('sock', 'inet_sock_set_state') ? null : 'not in this kernel (Linux 4.16+)'),
      value: 'tp',
    },
    {
      label: 'raw tracepoint inet_sock_set_state (socket fields at BTF offsets)',
      unavailable: () => !kernel.rawTracepoints() ? 'this kernel has no raw tracepoints (Linux 4.17+)'
        : !kernel.tracepoint('sock', 'inet_sock_set_state') ? 'not in this kernel (Linux 4.16+)'
        : !releaseAtLeast(5, 6, kernel.release) ? 'sk_protocol is a bit field before Linux 5.6'
        : kernel.offset('sock', 'sk_protocol') === undefined || !sockFields() ? noSockFields : null,
      value: 'raw',
    },
    {
      label: 'kprobe tcp_set_state (socket fields at BTF offsets)',
      unavailable: () => !kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction('tcp_set_state') ? 'tcp_set_state is not in /proc/kallsyms'
        : kernel.offset('sock', '__sk_common.skc_state') === undefined || !sockFields() ? noSockFields : null,
      value: 'kprobe',
    },
  ]);
  const fdWalk = () => { const walk = fdSocketOffsets(kernel); return 'defines' in walk ? walk.defines : null; };
  const owner = chooseAttach<AcceptHook>('owners of passive sockets', acceptHooks(kernel, fdWalk));
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;
  const hook = state.value;
  const accept = owner.value;

  return {
    file: 'tcplife.bpf.c',
    defines: {
      STATE_TP: hook === 'tp',
      STATE_RAW_TP: hook === 'raw',
      STATE_KPROBE: hook === 'kprobe',
      ...(hook === 'tp' ? {} : sockFields()!),
      ...(hook === 'raw' ? { SOCK_PROTOCOL_OFFSET: kernel.offset('sock', 'sk_protocol')! } : {}),
      ...(hook === 'kprobe' ? { SOCK_STATE_OFFSET: kernel.offset('sock', '__sk_common.skc_state')! } : {}),
      ...bytes,
      ACCEPT_TP: accept.kind === 'tracepoint',
      ACCEPT_KPROBE: accept.kind === 'kprobe',
      ...(accept.kind === 'none' ? {} : fdWalk()!),
      FILTER_PID: config.pid ?? 0,
      FILTER_FAMILY: config.family === 4 ? AF_INET : config.family === 6 ? AF_INET6 : 0,
      FILTER_LPORTS: new Set(config.localPorts ?? []).size,
      FILTER_RPORTS: new Set(config.remotePorts ?? []).size,
      MAX_SOCKETS,
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: RING_GROWTH * ringBufferPages(kernel.cpus()) } : {}),
    },
    attachments: [state.choice, owner.choice, stream.choice],
    ringBuffer,
    attach(bpf: BPF) {
      // Owners first: a socket accepted while the state probe is being attached still finds one.
      if (accept.kind === 'tracepoint') {
        for (const call of accept.fns) bpf.attachTracepoint({ tp: `syscalls:sys_exit_${call}`, fnName: `tracepoint__syscalls__sys_exit_${call}` });
      } else if (accept.kind === 'kprobe') {
        for (const fn of accept.fns) bpf.attachKretprobe({ event: fn, fnName: 'accept_return' });
      }
      if (hook === 'tp') bpf.attachTracepoint({ tp: 'sock:inet_sock_set_state', fnName: 'tracepoint__sock__inet_sock_set_state' });
      else if (hook === 'raw') bpf.attachRawTracepoint({ tp: 'inet_sock_set_state', fnName: 'raw_tracepoint__inet_sock_set_state' });
      else bpf.attachKprobe({ event: 'tcp_set_state', fnName: 'kprobe__tcp_set_state' });
    },
  };
}

const ACCEPT_CALLS = ['accept4', 'accept'];

/**
 * The task an accept() returns a socket to owns it; its syscall's exit gives the fd, and the fd
 * the socket (through BTF offsets). Without either, the task that closes the socket is its owner.
 */
function acceptHooks(kernel: KernelView, fdWalk: () => Record<string, number> | null): AttachCandidate<AcceptHook>[] {
  const noWalk = () => (fdWalk() ? null : "no BTF for the fd table's fields (task_struct.files … socket.sk)");
  // Looked up only when the tracepoints are missing: reading /proc/kallsyms takes 100 ms.
  let fns: string[] | undefined;
  const kernelFunctions = () => (fns ??= ACCEPT_CALLS.map((c) => kernel.syscallFunction(c)).filter((f): f is string => f !== null));
  return [
    {
      label: 'tracepoints syscalls:sys_exit_accept4 and sys_exit_accept (fd → socket at BTF offsets)',
      unavailable: () => (ACCEPT_CALLS.every((c) => kernel.tracepoint('syscalls', `sys_exit_${c}`))
        ? noWalk() : 'this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off)'),
      value: { kind: 'tracepoint', fns: ACCEPT_CALLS },
    },
    {
      get label() { return `kretprobes on ${kernelFunctions().join(' and ') || 'the accept syscall functions'} (fd → socket at BTF offsets)`; },
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : kernelFunctions().length === 0 ? 'no accept syscall function in /proc/kallsyms' : noWalk()),
      get value(): AcceptHook { return { kind: 'kprobe', fns: kernelFunctions() }; },
    },
    { label: 'none: the task that closes or shuts down the socket', unavailable: () => null, value: { kind: 'none', fns: [] } },
  ];
}
