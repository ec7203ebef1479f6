// tcpdrop's one configuration: what to produce (records with stacks, counts, or both) and a
// KernelView → tcpdrop.bpf.c's #defines, where drops are seen and why, the names of the drop
// reasons, and the attach. The tool and `bpfkit exporter` both load tcpdrop through configureTcpdrop.
import type { BPF } from 'bcc-node-bindings';
import { kernelBtfOrNull } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { tracepointFields } from '../../lib/kernel/tracepoint-fields.ts';

/** A kernel view that can also read an enum from BTF. */
export interface TcpdropKernel extends KernelView {
  /** Constants of `enum <name>` in the kernel's BTF, or undefined. */
  enumValues(name: string): Map<string, bigint> | undefined;
}

export function liveTcpdropKernel(): TcpdropKernel {
  return { ...liveKernel(), enumValues: (name) => kernelBtfOrNull()?.enumValues(name) };
}

export interface TcpdropConfig {
  /** -4 / -6 */
  ipVersion?: 4 | 6;
  /** One record per drop, with its kernel stack: the printed output. */
  events: boolean;
  /** Counts per reason and state in the kernel: --metrics. */
  count: boolean;
}

/** The exporter's: counts only, no records, no stacks walked. */
export const EXPORTER_CONFIG: TcpdropConfig = { events: false, count: true };

export type DropHook = 'HOOK_TP' | 'HOOK_RAW_TP' | 'HOOK_KPROBE_SK_SKB_REASON_DROP' | 'HOOK_KPROBE_KFREE_SKB_REASON' | 'HOOK_KPROBE_TCP_DROP';
const HOOKS: DropHook[] = ['HOOK_TP', 'HOOK_RAW_TP', 'HOOK_KPROBE_SK_SKB_REASON_DROP', 'HOOK_KPROBE_KFREE_SKB_REASON', 'HOOK_KPROBE_TCP_DROP'];

export interface TcpdropProgram extends ToolProgram {
  hook: DropHook;
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
  /** The hook gives the kernel's drop reason (Linux 5.17+). */
  hasReason: boolean;
  /** Reason names by value ("NO_SOCKET"), from enum skb_drop_reason; empty when BTF lacks it. */
  reasons: ReadonlyMap<number, string>;
}

/**
 * Distinct stacks the kernel keeps at once. User space frees each one as it reads it, so this
 * bounds the stacks in flight, not those seen in a run (bcc's tcpdrop keeps 1024 for ever).
 * Each entry reserves 127 frames (1 KiB), allocated when the map is made.
 */
const STACK_ENTRIES = 1024;

/**
 * Drops come in floods (a SYN flood, a firewall rule) while the reader names stacks: 4 MiB at
 * least, some 47,000 records of 88 bytes. The default 512 KiB lost 40% of a burst of 10,000
 * refused connects; 16 MiB (busyRingBufferPages) added 31 MB of RSS at start for no more gain.
 */
export function dropRingPages(cpus: number): number {
  return Math.max(1024, ringBufferPages(cpus));
}

/** enum skb_drop_reason's constants without their prefixes: SKB_DROP_REASON_NO_SOCKET → NO_SOCKET. */
export function dropReasonNames(values: Map<string, bigint> | undefined): Map<number, string> {
  const names = new Map<number, string>();
  for (const [constant, value] of values ?? []) {
    const name = constant.replace(/^SKB_DROP_REASON_/, '').replace(/^SKB_/, '');
    if (!names.has(Number(value))) names.set(Number(value), name);
  }
  return names;
}

const SKB_FIELDS: Record<string, [string, string]> = {
  SKB_HEAD_OFFSET: ['sk_buff', 'head'],
  SKB_NETWORK_HEADER_OFFSET: ['sk_buff', 'network_header'],
  SKB_TRANSPORT_HEADER_OFFSET: ['sk_buff', 'transport_header'],
  SKB_SK_OFFSET: ['sk_buff', 'sk'],
  SOCK_STATE_OFFSET: ['sock', '__sk_common.skc_state'],
};

function skbOffsets(kernel: KernelView): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const [name, [struct, field]] of Object.entries(SKB_FIELDS)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) return null;
    out[name] = at;
  }
  return out;
}

export function configureTcpdrop(config: TcpdropConfig, kernel: TcpdropKernel = liveTcpdropKernel()): TcpdropProgram {
  const enumValues = kernel.enumValues('skb_drop_reason');
  let tpFields: string[] | null | undefined;
  const kfreeSkbFields = () => (tpFields === undefined ? (tpFields = kernel.tracepointFields('skb', 'kfree_skb')) : tpFields);
  // Linux 5.17 gave kfree_skb its reason; the enum in BTF says so where tracefs cannot be read.
  const kernelHasReasons = () => kfreeSkbFields()?.includes('reason') ?? enumValues !== undefined;
  const skbArg = () => kernel.rawArg('kfree_skb', 'sk_buff');
  const kprobe = (fn: string, why: string) => () => (!kernel.kprobes() ? 'this kernel has no kprobes'
    : !kernel.kernelFunction(fn) ? `no ${fn} in this kernel (${why})` : null);

  const hook = chooseAttach<DropHook>('TCP drops', [
    {
      label: 'tracepoint skb:kfree_skb',
      unavailable: () => (kernel.tracepoint('skb', 'kfree_skb') ? null : 'no such tracepoint'),
      value: 'HOOK_TP',
    },
    {
      label: 'raw tracepoint kfree_skb',
      unavailable: () => (!kernel.rawTracepoints() ? 'needs Linux 4.17'
        : skbArg() === undefined ? 'its arguments are not in BTF' : null),
      value: 'HOOK_RAW_TP',
    },
    { label: 'kprobe sk_skb_reason_drop', unavailable: kprobe('sk_skb_reason_drop', 'Linux 6.11+'), value: 'HOOK_KPROBE_SK_SKB_REASON_DROP' },
    { label: 'kprobe kfree_skb_reason', unavailable: kprobe('kfree_skb_reason', 'Linux 5.17 to 6.10'), value: 'HOOK_KPROBE_KFREE_SKB_REASON' },
    { label: "kprobe tcp_drop (bcc's; no drop reason)", unavailable: kprobe('tcp_drop', 'gone in Linux 5.19'), value: 'HOOK_KPROBE_TCP_DROP' },
  ]);
  const hasReason = hook.value === 'HOOK_TP' || hook.value === 'HOOK_RAW_TP' ? kernelHasReasons() : hook.value !== 'HOOK_KPROBE_TCP_DROP';
  const reasons = hasReason ? dropReasonNames(enumValues) : new Map<number, string>();
  const reasonNames = chooseAttach('drop reason names', [
    {
      label: 'enum skb_drop_reason in the kernel\'s BTF',
      unavailable: () => (!hasReason ? 'the hook gives no reason (skb:kfree_skb has one from Linux 5.17)'
        : reasons.size === 0 ? 'no enum skb_drop_reason in BTF (/sys/kernel/btf/vmlinux)' : null),
      value: 'names',
    },
    {
      label: hasReason ? 'numbers only' : 'none: every drop shows reason -',
      unavailable: () => null,
      value: 'numbers',
    },
  ]);
  const fromBtf = skbOffsets(kernel);
  const offsets = chooseAttach('struct sk_buff and sock field offsets', [
    {
      label: "the running kernel's BTF",
      unavailable: () => (fromBtf ? null : 'no BTF for struct sk_buff (/sys/kernel/btf/vmlinux)'),
      value: fromBtf ?? {},
    },
    {
      label: "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
      unavailable: () => null,
      value: { SKB_OFFSETS_FROM_HEADERS: 1 } as Record<string, number>,
    },
  ]);
  const stream = config.events ? chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]) : null;
  const ringBuffer = stream?.value ?? false;
  const rawSkb = hook.value === 'HOOK_RAW_TP' ? skbArg() ?? 0 : 0;

  return {
    file: 'tcpdrop.bpf.c',
    defines: {
      ...Object.fromEntries(HOOKS.map((h) => [h, h === hook.value])),
      HAS_REASON: hasReason,
      // NOT_SPECIFIED is skipped too, as bcc does: older kernels free a closed socket's queues
      // with plain kfree_skb() (Debian 12's 6.1), which would show every normal close.
      MIN_REASON: enumValues?.has('SKB_DROP_REASON_NOT_SPECIFIED') ? Number(enumValues.get('SKB_DROP_REASON_NOT_SPECIFIED')!) + 1 : 0,
      // Packets still queued on a socket being destroyed (Linux 6.8+ names them): freed with
      // the socket after a normal close (a FIN left unread), not lost on the way.
      SKIP_REASON: hasReason ? Number(enumValues?.get('SKB_DROP_REASON_QUEUE_PURGE') ?? -1n) : -1,
      TP_HAS_RX_SK: hook.value === 'HOOK_TP' && (kfreeSkbFields()?.includes('rx_sk') ?? false),
      RAW_SKB_ARG: rawSkb,
      RAW_REASON_ARG: rawSkb + 2,
      RAW_SK_ARG: hook.value === 'HOOK_RAW_TP' && hasReason ? kernel.rawArg('kfree_skb', 'sock') ?? -1 : -1,
      SKB_OFFSETS_FROM_HEADERS: false,
      ...offsets.value,
      FILTER_IP_VERSION: config.ipVersion ?? 0,
      EMIT_EVENTS: config.events,
      COUNT_DROPS: config.count,
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: dropRingPages(kernel.cpus()) } : {}),
      STACK_ENTRIES,
    },
    attachments: [hook.choice, reasonNames.choice, offsets.choice, ...(stream ? [stream.choice] : [])],
    hook: hook.value,
    ringBuffer,
    hasReason,
    reasons,
    attach(bpf: BPF) {
      switch (hook.value) {
        case 'HOOK_TP': bpf.attachTracepoint({ tp: 'skb:kfree_skb', fnName: 'tracepoint__skb__kfree_skb' }); return;
        case 'HOOK_RAW_TP': bpf.attachRawTracepoint({ tp: 'kfree_skb', fnName: 'raw_tracepoint__kfree_skb' }); return;
        case 'HOOK_KPROBE_SK_SKB_REASON_DROP': bpf.attachKprobe({ event: 'sk_skb_reason_drop', fnName: 'kprobe_sk_skb_reason_drop' }); return;
        case 'HOOK_KPROBE_KFREE_SKB_REASON': bpf.attachKprobe({ event: 'kfree_skb_reason', fnName: 'kprobe_kfree_skb_reason' }); return;
        case 'HOOK_KPROBE_TCP_DROP': bpf.attachKprobe({ event: 'tcp_drop', fnName: 'kprobe_tcp_drop' }); return;
      }
    },
  };
}
