/* oomkill: one record per task the OOM killer marks as its victim, with the task that was running
 * when it did (the one whose allocation failed) and what the victim held (tools/oomkill/README.md
 * says what is traced where, and why).
 *
 * Configuration, as #defines of numbers (tools/oomkill/program.ts); exactly one hook is 1:
 *   VICTIM_FIELDS_TP   oom:mark_victim with the victim's name, uid and memory (Linux 6.9+)
 *   KPROBE_OOM_KILL    a kprobe on oom_kill_process (bcc's way), reading struct oom_control at
 *                      OOM_CONTROL_CHOSEN_OFFSET and OOM_CONTROL_TOTALPAGES_OFFSET and the chosen
 *                      task at TASK_TGID_OFFSET and TASK_COMM_OFFSET (the running kernel's BTF)
 *   VICTIM_PID_TP      oom:mark_victim as kernels before 6.9 have it: the victim's PID only
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 */
#if KPROBE_OOM_KILL
#include <uapi/linux/ptrace.h>
#endif

#define OOM_COMM_LEN 16

/* flags: which of the victim's fields the hook could fill */
#define OOM_VICTIM_COMM 1     /* victim_comm */
#define OOM_VICTIM_MEMORY 2   /* victim_uid, oom_score_adj and the *_kb fields (the tracepoint's) */
#define OOM_TOTAL_PAGES 4     /* total_pages: oom_control.totalpages (the kprobe's) */

struct oom_event {
    u64 ts;              /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, like process.hrtime() */
    u32 trigger_pid;     /* tgid of the task running when the victim was chosen */
    u32 victim_pid;      /* the tracepoint's task->pid; the kprobe's chosen->tgid */
    u32 victim_uid;
    s32 oom_score_adj;
    u32 flags;
    u32 reserved;
    u64 total_pages;     /* the size of the OOM domain in pages: memory (+ swap) of the machine or memcg */
    u64 total_vm_kb;
    u64 anon_rss_kb;
    u64 file_rss_kb;
    u64 shmem_rss_kb;
    u64 pgtables_kb;
    char trigger_comm[OOM_COMM_LEN];
    char victim_comm[OOM_COMM_LEN];
};

#define BPFKIT_EVENT struct oom_event
#include "bpfkit/events.h"

/* A ring buffer's record is not zeroed: every field is set before it is sent. */
static __always_inline struct oom_event *new_event(void)
{
    struct oom_event *ev = bpfkit_event_reserve();
    if (!ev)
        return 0;
    __builtin_memset(ev, 0, sizeof(*ev));
    ev->ts = bpf_ktime_get_ns();
    ev->trigger_pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(ev->trigger_comm, sizeof(ev->trigger_comm));
    return ev;
}

#if VICTIM_FIELDS_TP || VICTIM_PID_TP
/* mark_oom_victim() runs in the task that called out_of_memory(): the allocating task (the
 * kernel's "invoked oom-killer" line), or a kworker for sysrq-f. */
TRACEPOINT_PROBE(oom, mark_victim)
{
    struct oom_event *ev = new_event();
    if (!ev)
        return 0;
    ev->victim_pid = args->pid;
#if VICTIM_FIELDS_TP
    unsigned short loc = args->data_loc_comm & 0xffff;
    if (bpf_probe_read_kernel_str(ev->victim_comm, sizeof(ev->victim_comm), (const char *)args + loc) > 0)
        ev->flags |= OOM_VICTIM_COMM;
    ev->victim_uid = args->uid;
    ev->oom_score_adj = args->oom_score_adj;
    ev->total_vm_kb = args->total_vm;
    ev->anon_rss_kb = args->anon_rss;
    ev->file_rss_kb = args->file_rss;
    ev->shmem_rss_kb = args->shmem_rss;
    ev->pgtables_kb = args->pgtables;
    ev->flags |= OOM_VICTIM_MEMORY;
#else
    /* Only the PID: its name is known here when the victim is the task that ran out of memory. */
    if ((u32)bpf_get_current_pid_tgid() == (u32)args->pid) {
        __builtin_memcpy(ev->victim_comm, ev->trigger_comm, sizeof(ev->victim_comm));
        ev->flags |= OOM_VICTIM_COMM;
    }
#endif
    bpfkit_event_submit(args, ev);
    return 0;
}
#endif

#if KPROBE_OOM_KILL
/* oom_kill_process(struct oom_control *oc, const char *message) */
int oom_kill_entry(struct pt_regs *ctx)
{
    const char *oc = (const char *)PT_REGS_PARM1(ctx);
    const char *chosen = 0;
    bpf_probe_read_kernel(&chosen, sizeof(chosen), oc + OOM_CONTROL_CHOSEN_OFFSET);
    if (!chosen)
        return 0;
    struct oom_event *ev = new_event();
    if (!ev)
        return 0;
    bpf_probe_read_kernel(&ev->victim_pid, sizeof(ev->victim_pid), chosen + TASK_TGID_OFFSET);
    bpf_probe_read_kernel(&ev->total_pages, sizeof(ev->total_pages), oc + OOM_CONTROL_TOTALPAGES_OFFSET);
    if (bpf_probe_read_kernel_str(ev->victim_comm, sizeof(ev->victim_comm), chosen + TASK_COMM_OFFSET) > 0)
        ev->flags |= OOM_VICTIM_COMM;
    ev->flags |= OOM_TOTAL_PAGES;
    bpfkit_event_submit(ctx, ev);
    return 0;
}
#endif
