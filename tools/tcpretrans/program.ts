// tcpretrans's one configuration: what to report (plain data from the options, or the exporter's
// fixed choice) and a kernel view → tcpretrans.bpf.c's #defines, where each probe goes and why,
// and the attach. The tool and `bpfkit exporter` both load the program through configureTcpretrans.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach, type AttachChoice } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { releaseAtLeast } from '../../lib/kernel/release.ts';
import { chooseSockOffsets, sockOffsets } from '../../lib/kernel/sock-offsets.ts';
import { AF_INET, AF_INET6 } from '../../lib/output/inet.ts';

export interface TcpretransConfig {
  /** One record per retransmit (the text and JSON output). */
  events: boolean;
  /** Counts per flow and type in the kernel's `counts` map (-c, --metrics). */
  count: boolean;
  /** -l: tail loss probes too, from a kprobe (no tracepoint marks them). */
  lossprobe: boolean;
  /** -4 / -6 */
  family?: 4 | 6;
}

export type RetransHook = 'tracepoint' | 'raw' | 'kprobe';
type OwnerHook = 'tracepoint' | 'raw' | 'none';

export interface TcpretransProgram extends ToolProgram {
  hook: RetransHook;
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** What the exporter counts: every retransmit on the machine, per flow, with no records. */
export const EXPORTER_CONFIG: TcpretransConfig = { events: false, count: true, lossprobe: false };

/** Flows `counts` holds; beyond, events are counted in `dropped`. Metrics export at most the series limit. */
export const MAX_FLOWS = 16384;
// Owners by socket: an LRU, so a full table forgets the oldest sockets (printed with bcc's PID).
const MAX_SOCKETS = 16384;
/** Retransmits are rare next to opens or execs: 256 KiB holds some 3,000 records. */
const RING_PAGES = 64;

const TLP_NO_TRACEPOINT = 'no tracepoint marks a tail loss probe';

export function configureTcpretrans(config: TcpretransConfig, kernel: KernelView = liveKernel()): TcpretransProgram {
  let fields: string[] | null | undefined;
  const retransFields = () => (fields === undefined ? (fields = kernel.tracepointFields('tcp', 'tcp_retransmit_skb')) : fields);
  const skArg = () => kernel.rawArg('tcp_retransmit_skb', 'sock');
  const skbArg = () => kernel.rawArg('tcp_retransmit_skb', 'sk_buff');
  const sockInBtf = () => kernel.offset('sock', '__sk_common.skc_state') !== undefined && sockOffsets(kernel) !== null;
  // The raw tracepoint first, although it needs BTF for the socket's fields: a classic
  // tracepoint's program is skipped whenever any other kprobe or tracepoint program is running on
  // that CPU (the kernel's bpf_prog_active guard), and retransmits fire from timers in softirq,
  // interrupting whatever runs, BPF programs included. With another tool tracing syscalls, the
  // tracepoint missed 2 of 5 retransmits here; a raw tracepoint's program is skipped only when
  // it interrupts itself.
  const retrans = chooseAttach<RetransHook>('TCP retransmits', [
    {
      label: 'raw tracepoint tcp_retransmit_skb (sk, skb[, err]), the socket read at BTF offsets',
      unavailable: () => (!kernel.rawTracepoints() ? 'needs Linux 4.17'
        : skArg() === undefined || skbArg() === undefined ? 'no tcp_retransmit_skb(sk, skb) raw tracepoint in BTF'
          : sockInBtf() ? null : 'no BTF for struct sock (/sys/kernel/btf/vmlinux)'),
      value: 'raw',
    },
    {
      label: 'tracepoint tcp:tcp_retransmit_skb (skipped while another BPF tracing program runs on the CPU)',
      unavailable: () => (kernel.tracepoint('tcp', 'tcp_retransmit_skb') ? null : 'not in this kernel (Linux 4.15+)'),
      value: 'tracepoint',
    },
    {
      label: "kprobe tcp_retransmit_skb (bcc's fallback: failed attempts count too)",
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : kernel.kernelFunction('tcp_retransmit_skb') ? null : 'no tcp_retransmit_skb in /proc/kallsyms'),
      value: 'kprobe',
    },
  ]);
  const hook = retrans.value;
  const tlp = lossProbes(config.lossprobe, kernel);
  // Raw first for the same reason: a CLOSE missed would leave a stale owner behind.
  const owner = config.events ? chooseAttach<OwnerHook>('the process named in PID', [
    {
      label: 'raw tracepoint inet_sock_set_state (the socket\'s owner, remembered at SYN_SENT inside connect())',
      unavailable: () => (!kernel.rawTracepoints() ? 'needs Linux 4.17'
        : kernel.rawArg('inet_sock_set_state', 'sock') === undefined ? 'no inet_sock_set_state raw tracepoint in BTF'
          : sockOffsets(kernel) === null ? 'no BTF for struct sock (/sys/kernel/btf/vmlinux)' : null),
      value: 'raw',
    },
    {
      label: 'tracepoint sock:inet_sock_set_state (the same, skipped while another BPF tracing program runs)',
      unavailable: () => (kernel.tracepoint('sock', 'inet_sock_set_state') ? null : 'not in this kernel (Linux 4.16+)'),
      value: 'tracepoint',
    },
    { label: "the process on the CPU at the retransmit (bcc's PID)", unavailable: () => null, value: 'none' },
  ]) : null;

  // The socket is read at struct offsets only where the hook hands over nothing but its pointer.
  const sockNeeded = hook !== 'tracepoint' || config.lossprobe || owner?.value === 'raw';
  const sock = sockNeeded ? chooseSockOffsets(kernel) : null;
  const skb = config.events ? skbFields(kernel) : null;
  const stream = config.events ? chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]) : null;
  const ringBuffer = stream?.value ?? false;

  const hasErr = () => retransFields()?.includes('err') ?? releaseAtLeast(6, 10, kernel.release);
  const defines: Record<string, DefineValue> = {
    RETRANS_TRACEPOINT: hook === 'tracepoint',
    RETRANS_RAW_TP: hook === 'raw',
    RETRANS_KPROBE: hook === 'kprobe',
    // Since 6.10 the tracepoint fires for failed attempts too, with `err`.
    TP_HAS_ERR: hook === 'tracepoint' && hasErr(),
    RAW_HAS_ERR: hook === 'raw' && hasErr(),
    ...(hook === 'raw' ? { RAW_SK_ARG: skArg()!, RAW_SKB_ARG: skbArg()! } : {}),
    TLP_KPROBE: tlp.traced,
    OWNER_TRACEPOINT: owner?.value === 'tracepoint',
    OWNER_RAW_TP: owner?.value === 'raw',
    EMIT_EVENTS: config.events,
    COUNT_FLOWS: config.count,
    FILTER_FAMILY: config.family === 4 ? AF_INET : config.family === 6 ? AF_INET6 : 0,
    ...(sock ? sock.value : {}),
    ...(sock && !('SOCK_OFFSETS_FROM_HEADERS' in sock.value) ? { SOCK_STATE_OFFSET: kernel.offset('sock', '__sk_common.skc_state') ?? 0 } : {}),
    ...(skb ? skb.value : { SKB_CB_OFFSET: 0, TCB_SEQ_OFFSET: 0, TCB_SEGS_OFFSET: 0 }),
    USE_RINGBUF: ringBuffer,
    ...(ringBuffer ? { RINGBUF_PAGES: RING_PAGES } : {}),
    MAX_FLOWS,
    MAX_SOCKETS,
  };

  const attachments: AttachChoice[] = [retrans.choice, tlp.choice];
  for (const c of [owner, sock, skb, stream]) if (c) attachments.push(c.choice);
  return {
    file: 'tcpretrans.bpf.c',
    defines,
    attachments,
    hook,
    ringBuffer,
    attach(bpf: BPF) {
      // Owners first: a connection that starts meanwhile is already remembered when it retransmits.
      if (owner?.value === 'tracepoint') bpf.attachTracepoint({ tp: 'sock:inet_sock_set_state', fnName: 'tracepoint__sock__inet_sock_set_state' });
      else if (owner?.value === 'raw') bpf.attachRawTracepoint({ tp: 'inet_sock_set_state', fnName: 'raw_tracepoint__inet_sock_set_state' });
      if (hook === 'tracepoint') bpf.attachTracepoint({ tp: 'tcp:tcp_retransmit_skb', fnName: 'tracepoint__tcp__tcp_retransmit_skb' });
      else if (hook === 'raw') bpf.attachRawTracepoint({ tp: 'tcp_retransmit_skb', fnName: 'raw_tracepoint__tcp_retransmit_skb' });
      else bpf.attachKprobe({ event: 'tcp_retransmit_skb', fnName: 'kprobe__tcp_retransmit_skb' });
      if (tlp.traced) bpf.attachKprobe({ event: 'tcp_send_loss_probe', fnName: 'kprobe__tcp_send_loss_probe' });
    },
  };
}

/**
 * -l: a kprobe on tcp_send_loss_probe, bcc's only way, or a refusal naming why. Without -l the
 * decision still shows in --explain, with what -l would need here.
 */
function lossProbes(asked: boolean, kernel: KernelView): { traced: boolean; choice: AttachChoice } {
  const purpose = 'tail loss probes (-l)';
  if (!asked) {
    const reason = kernel.kprobes() ? 'not asked for (-l)' : `not asked for (-l); this kernel has no kprobes, and ${TLP_NO_TRACEPOINT}`;
    return { traced: false, choice: { purpose, chosen: 'not traced', rejected: [{ label: 'kprobe tcp_send_loss_probe', reason }] } };
  }
  try {
    const c = chooseAttach(purpose, [{
      label: 'kprobe tcp_send_loss_probe',
      unavailable: () => (!kernel.kprobes() ? `this kernel has no kprobes, and ${TLP_NO_TRACEPOINT}`
        : kernel.kernelFunction('tcp_send_loss_probe') ? null : 'no tcp_send_loss_probe in /proc/kallsyms'),
      value: true,
    }]);
    return { traced: true, choice: c.choice };
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^.*kprobe tcp_send_loss_probe: /, '') : String(err);
    throw new MissingPrerequisite(`-l needs a kprobe on tcp_send_loss_probe: ${why}`);
  }
}

/** Where the sequence number and segment count sit in a retransmitted sk_buff (TCP_SKB_CB). */
function skbFields(kernel: KernelView): { value: Record<string, DefineValue>; choice: AttachChoice } {
  const cb = kernel.offset('sk_buff', 'cb');
  const seq = kernel.offset('tcp_skb_cb', 'seq');
  const segs = kernel.offset('tcp_skb_cb', 'tcp_gso_segs');
  const fromBtf = cb !== undefined && seq !== undefined && segs !== undefined;
  return chooseAttach<Record<string, DefineValue>>('struct sk_buff fields (SEQ, segments)', [
    {
      label: "the running kernel's BTF",
      unavailable: () => (fromBtf ? null : 'no BTF for sk_buff.cb and tcp_skb_cb (/sys/kernel/btf/vmlinux)'),
      value: fromBtf ? { SKB_CB_OFFSET: cb, TCB_SEQ_OFFSET: seq, TCB_SEGS_OFFSET: segs } : {},
    },
    {
      label: "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
      unavailable: () => null,
      value: { SKB_FIELDS_FROM_HEADERS: 1 },
    },
  ]);
}
