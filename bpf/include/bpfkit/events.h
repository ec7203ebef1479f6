/* The events channel of the snoop tools: one record per event, to user space through a ring
 * buffer (Linux 5.8+) or else a perf buffer, with a count of what could not be delivered.
 *
 * Takes:
 *   USE_RINGBUF     1: one ring buffer for all CPUs; 0: a perf buffer (a ring per CPU)
 *   RINGBUF_PAGES   with USE_RINGBUF: its size in pages (a power of two, as the kernel requires)
 *   BPFKIT_EVENT    optional, defined before the include: the record type (`struct open_event`)
 *                   of a tool that fills its records in place
 * Declares:
 *   events          the table user space opens (BPF_RINGBUF_OUTPUT or BPF_PERF_OUTPUT)
 *   lost            ring buffer only: per-CPU u64 at index 0, the records it refused when full.
 *                   A perf buffer needs none: the kernel counts what it drops and tells the
 *                   reader (PERF_RECORD_LOST), so counting here as well would count twice.
 * Helpers (`ctx` is the probe's context, `args` in a TRACEPOINT_PROBE; ring buffers ignore it):
 *   bpfkit_event_output(ctx, data, size)   sends a record built elsewhere (a per-CPU scratch:
 *                                          too big for the stack, or of varying size)
 *   bpfkit_event_reserve()                 with BPFKIT_EVENT: a record to fill in place, or 0
 *   bpfkit_event_submit(ctx, ev)           sends what bpfkit_event_reserve() gave
 *
 * bcc turns table calls (events.ringbuf_output) into BPF helper calls only in the program's own
 * text, never inside a macro: these helpers work because lib/run/program.ts inlines this header
 * into that text. (Compiled as a plain #include, they would call through a null pointer.) */
#ifndef BPFKIT_EVENTS_H
#define BPFKIT_EVENTS_H

#ifndef USE_RINGBUF
#error "bpfkit/events.h needs USE_RINGBUF (and RINGBUF_PAGES when it is 1)"
#endif

#if USE_RINGBUF
#ifndef RINGBUF_PAGES
#error "bpfkit/events.h needs RINGBUF_PAGES with USE_RINGBUF"
#endif
BPF_RINGBUF_OUTPUT(events, RINGBUF_PAGES);
BPF_PERCPU_ARRAY(lost, u64, 1);
#else
BPF_PERF_OUTPUT(events);
#ifdef BPFKIT_EVENT
/* A perf buffer copies from memory the program owns: each CPU fills its record here. */
BPF_PERCPU_ARRAY(bpfkit_event_scratch, BPFKIT_EVENT, 1);
#endif
#endif

static __always_inline void bpfkit_event_output(void *ctx, void *data, u32 size)
{
#if USE_RINGBUF
    if (events.ringbuf_output(data, size, 0) != 0)
        lost.increment(0);
#else
    events.perf_submit(ctx, data, size);
#endif
}

#ifdef BPFKIT_EVENT
/* A full ring buffer gives no room: that record is counted lost here, and the caller drops it. */
static __always_inline BPFKIT_EVENT *bpfkit_event_reserve(void)
{
#if USE_RINGBUF
    BPFKIT_EVENT *ev = events.ringbuf_reserve(sizeof(BPFKIT_EVENT));
    if (!ev)
        lost.increment(0);
    return ev;
#else
    int zero = 0;
    return bpfkit_event_scratch.lookup(&zero);
#endif
}

static __always_inline void bpfkit_event_submit(void *ctx, BPFKIT_EVENT *ev)
{
#if USE_RINGBUF
    events.ringbuf_submit(ev, 0);
#else
    events.perf_submit(ctx, ev, sizeof(BPFKIT_EVENT));
#endif
}
#endif /* BPFKIT_EVENT */

#endif /* BPFKIT_EVENTS_H */
