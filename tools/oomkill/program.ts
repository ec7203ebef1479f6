// oomkill's one configuration: a KernelView → oomkill.bpf.c's #defines, where the probe goes and
// why, and the attach. The tool and `bpfkit exporter` both load the program through configureOomkill.
import type { BPF } from 'bcc-node-bindings';
import { chooseAttach } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
/** Where the victim comes from; each hook fills what it can of the record (events.ts says what). */
export type OomHook = 'tracepoint' | 'kprobe' | 'tracepoint-pid';

export interface OomkillProgram extends ToolProgram {
  hook: OomHook;
  /** Records come through a ring buffer, else a perf buffer (bpfkit/events.h). */
  ringBuffer: boolean;
}

/** The fields of oom:mark_victim oomkill.bpf.c reads with VICTIM_FIELDS_TP (Linux 6.9, commit 72ba14deb40a). */
export const MARK_VICTIM_FIELDS = ['pid', 'comm', 'total_vm', 'anon_rss', 'file_rss', 'shmem_rss', 'uid', 'pgtables', 'oom_score_adj'];

/**
 * OOM kills are rare: a small ring (64 KiB, some 550 records) is room enough, and keeps RSS low
 * (every ring page is mapped twice). A power of two, as the kernel requires.
 */
export const OOM_RING_PAGES = 16;

export function configureOomkill(kernel: KernelView = liveKernel()): OomkillProgram {
  let fields: string[] | null | undefined;
  const markVictimFields = () => (fields === undefined ? (fields = kernel.tracepointFields('oom', 'mark_victim')) : fields);
  const hook = chooseAttach('OOM kills', [
    {
      label: 'tracepoint oom:mark_victim (victim\'s name and memory)',
      unavailable: () => {
        const have = markVictimFields();
        if (have === null) return 'no such tracepoint';
        const lacking = MARK_VICTIM_FIELDS.filter((f) => !have.includes(f));
        return lacking.length ? `it lacks ${lacking.join(', ')} (Linux 6.9 added them)` : null;
      },
      value: 'tracepoint' as OomHook,
    },
    {
      label: 'kprobe on oom_kill_process (bcc\'s)',
      unavailable: () => (!kernel.kprobes() ? 'this kernel has no kprobes'
        : !kernel.kernelFunction('oom_kill_process') ? 'no oom_kill_process in /proc/kallsyms' : null),
      value: 'kprobe' as OomHook,
    },
    {
      label: 'tracepoint oom:mark_victim (victim\'s PID only)',
      unavailable: () => {
        const have = markVictimFields();
        return have === null ? 'no such tracepoint' : have.includes('pid') ? null : 'it has no pid field';
      },
      value: 'tracepoint-pid' as OomHook,
    },
  ]);
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const ringBuffer = stream.value;

  return {
    file: 'oomkill.bpf.c',
    defines: {
      VICTIM_FIELDS_TP: hook.value === 'tracepoint',
      KPROBE_OOM_KILL: hook.value === 'kprobe',
      VICTIM_PID_TP: hook.value === 'tracepoint-pid',
      ...(hook.value === 'kprobe' ? oomControlOffsets(kernel) : {}),
      USE_RINGBUF: ringBuffer,
      ...(ringBuffer ? { RINGBUF_PAGES: OOM_RING_PAGES } : {}),
    },
    attachments: [hook.choice, stream.choice],
    hook: hook.value,
    ringBuffer,
    attach(bpf: BPF) {
      if (hook.value === 'kprobe') bpf.attachKprobe({ event: 'oom_kill_process', fnName: 'oom_kill_entry' });
      else bpf.attachTracepoint({ tp: 'oom:mark_victim', fnName: 'tracepoint__oom__mark_victim' });
    },
  };
}

/** The kprobe reads struct oom_control and the chosen task at the running kernel's offsets, not the headers'. */
function oomControlOffsets(kernel: KernelView): Record<string, DefineValue> {
  const wanted: Record<string, [string, string]> = {
    OOM_CONTROL_CHOSEN_OFFSET: ['oom_control', 'chosen'],
    OOM_CONTROL_TOTALPAGES_OFFSET: ['oom_control', 'totalpages'],
    TASK_TGID_OFFSET: ['task_struct', 'tgid'],
    TASK_COMM_OFFSET: ['task_struct', 'comm'],
  };
  const out: Record<string, DefineValue> = {};
  for (const [name, [struct, field]] of Object.entries(wanted)) {
    const at = kernel.offset(struct, field);
    if (at === undefined) throw new MissingPrerequisite(`needs ${struct}.${field} from the kernel's BTF (/sys/kernel/btf/vmlinux), which this kernel lacks`);
    out[name] = at;
  }
  return out;
}
