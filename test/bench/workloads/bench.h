/* What every benchmark workload shares: how much work to do, waiting for the tracer, timing and
 * the one result line.
 *
 * AMOUNT is either a count ("200000": exactly that many operations) or a duration ("@10": as many
 * as fit in 10 seconds, for load windows). With "wait" the program first reads one line from
 * stdin, so the bench can start a tracer filtered on this PID and let the work begin only once
 * the probes are attached. The result, on stdout, is one line:
 *   ops=N elapsed_ns=T ns_per_op=T/N
 * timed with CLOCK_MONOTONIC around the work only (not process start or exit). */
#ifndef BENCH_H
#define BENCH_H
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct amount {
    long count;         /* operations to make, or 0 when seconds is set */
    double seconds;     /* how long to run, or 0 when count is set */
};

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline struct amount parse_amount(const char *arg)
{
    struct amount a = { 0, 0 };
    if (arg[0] == '@')
        a.seconds = atof(arg + 1);
    else
        a.count = atol(arg);
    if (a.count <= 0 && a.seconds <= 0) {
        fprintf(stderr, "bad amount %s: a count, or @SECONDS\n", arg);
        exit(2);
    }
    return a;
}

/* Work in batches of `batch` operations, checking the clock between batches in duration mode. */
static inline int amount_more(const struct amount *a, long done, long long start)
{
    if (a->count > 0)
        return done < a->count;
    return now_ns() - start < (long long)(a->seconds * 1e9);
}

static inline void wait_for_go(int argc, char **argv, int index)
{
    if (argc > index && strcmp(argv[index], "wait") == 0) {
        char line[64];
        if (!fgets(line, sizeof line, stdin))
            exit(3);
    }
}

static inline void report(long ops, long long elapsed)
{
    printf("ops=%ld elapsed_ns=%lld ns_per_op=%.1f\n", ops, elapsed, ops > 0 ? (double)elapsed / ops : 0.0);
    fflush(stdout);
}

#endif
