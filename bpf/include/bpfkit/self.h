/* The tool's own process, left out of what it watches (its bpf() calls check capabilities, its
 * start opens files): its PID is a map entry the tool writes before attaching
 * (bpf.table('self_pid').set(0, process.pid)), not a #define, so that the program text, and with
 * it the compile cache's key, does not change with every start. */
#ifndef BPFKIT_SELF_H
#define BPFKIT_SELF_H

BPF_ARRAY(self_pid, u32, 1);

static __always_inline bool bpfkit_is_self(u32 tgid)
{
    int zero = 0;
    u32 *self = self_pid.lookup(&zero);
    return self && tgid == *self;
}

#endif /* BPFKIT_SELF_H */
