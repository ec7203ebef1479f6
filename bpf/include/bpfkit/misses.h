/* What a histogram tool's maps had no room for: a start time not kept (its hash full), or a value
 * not counted (the histogram's hash full). Counted here and reported by the tool, so that a
 * histogram that holds fewer values than happened says so instead of looking complete. */
#ifndef BPFKIT_MISSES_H
#define BPFKIT_MISSES_H

#define MISS_START_FULL 0
#define MISS_HIST_FULL 1
BPF_ARRAY(misses, u64, 2);

static __always_inline void count_miss(int what)
{
    u64 *n = misses.lookup(&what);
    if (n)
        lock_xadd(n, 1);
}

#endif
