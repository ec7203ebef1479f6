/* The maps of bcc's container filters, --cgroupmap and --mntnsmap: hash maps that someone else
 * created and pinned (see bcc's docs/special_filtering.md), holding the cgroup ids or mount
 * namespace inodes to trace. The user's path never enters the program: lib/kernel/pinned-maps.ts checks the map, pins it
 * again at a path made from the tool's PID (PIN_ID), and removes that second pin as soon as the
 * program holds the map.
 *
 * Needs FILTER_CGROUP_MAP and FILTER_MNTNS_MAP (0 or 1); PIN_ID when either is 1; for
 * FILTER_MNTNS_MAP also the offsets bpfkit/task.h reads the mount namespace with. */
#ifndef BPFKIT_CONTAINERS_H
#define BPFKIT_CONTAINERS_H

#if FILTER_CGROUP_MAP || FILTER_MNTNS_MAP
#define BPFKIT_PIN_STR_(x) #x
#define BPFKIT_PIN_STR(x) BPFKIT_PIN_STR_(x)
#endif

#if FILTER_CGROUP_MAP
BPF_TABLE_PINNED("hash", u64, u64, cgroupset, 1024, "/sys/fs/bpf/bpfkit-" BPFKIT_PIN_STR(PIN_ID) "-cgroupmap");
#endif

#if FILTER_MNTNS_MAP
#include "bpfkit/task.h"
BPF_TABLE_PINNED("hash", u64, u32, mount_ns_set, 1024, "/sys/fs/bpf/bpfkit-" BPFKIT_PIN_STR(PIN_ID) "-mntnsmap");
#endif

/* Whether the current task passes --cgroupmap / --mntnsmap (always, without them). The map
 * calls work from a header because lib/run/program.ts inlines the project's headers into the
 * program text, and bcc rewrites map calls (cgroupset.lookup) only in that text. */
static __always_inline bool bpfkit_container_allowed(void)
{
#if FILTER_CGROUP_MAP
    u64 cgroup_id = bpf_get_current_cgroup_id();
    if (!cgroupset.lookup(&cgroup_id))
        return false;
#endif
#if FILTER_MNTNS_MAP
    u64 mntns = bpfkit_current_mntns();
    if (!mount_ns_set.lookup(&mntns))
        return false;
#endif
    return true;
}

#endif /* BPFKIT_CONTAINERS_H */
