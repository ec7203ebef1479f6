/* Reading the current task's parent and namespaces at offsets taken from the running kernel's
 * BTF (lib/kernel/offsets.ts passes them as -D numbers), never from the compile-time headers:
 * when the headers are not the running kernel's, task->real_parent->tgid compiles to the wrong
 * offset and reads garbage without any error. */
#ifndef BPFKIT_TASK_H
#define BPFKIT_TASK_H

#if !defined(TASK_REAL_PARENT_OFFSET) || !defined(TASK_TGID_OFFSET)
#error "include bpfkit/task.h only with the offsets from lib/kernel/offsets.ts"
#endif

static __always_inline void *bpfkit_read_ptr(const void *base, unsigned long offset)
{
    void *value = 0;
    bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

/* The parent's PID (tgid) of the current task, as getppid() would return it. */
static __always_inline u32 bpfkit_current_ppid(void)
{
    const void *task = (const void *)bpf_get_current_task();
    const void *parent = bpfkit_read_ptr(task, TASK_REAL_PARENT_OFFSET);
    u32 tgid = 0;
    bpf_probe_read_kernel(&tgid, sizeof(tgid), (const char *)parent + TASK_TGID_OFFSET);
    return tgid;
}

#ifdef TASK_NSPROXY_OFFSET
/* The inode number of the current task's mount namespace (what bcc's --mntnsmap keys on). */
static __always_inline u32 bpfkit_current_mntns(void)
{
    const void *task = (const void *)bpf_get_current_task();
    const void *nsproxy = bpfkit_read_ptr(task, TASK_NSPROXY_OFFSET);
    const void *mnt_ns = bpfkit_read_ptr(nsproxy, NSPROXY_MNT_NS_OFFSET);
    u32 inum = 0;
    bpf_probe_read_kernel(&inum, sizeof(inum), (const char *)mnt_ns + MNT_NS_INUM_OFFSET);
    return inum;
}
#endif

#endif /* BPFKIT_TASK_H */
