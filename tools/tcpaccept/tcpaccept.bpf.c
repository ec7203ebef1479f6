/* tcpaccept: one record per TCP connection accepted, named after the process that accepted it
 * (tools/tcpaccept/README.md says what is traced where, and why).
 *
 * #defines it takes (numbers only; tools/tcpaccept/program.ts computes them):
 *   ACCEPT_TRACEPOINTS  1: at the exit of accept4()/accept() (syscalls:sys_exit_*), the new
 *                       socket found from the returned file descriptor
 *   HAVE_ACCEPT         with ACCEPT_TRACEPOINTS: the kernel has accept() besides accept4()
 *   ACCEPT_KPROBE       1: a kretprobe on inet_csk_accept hands the socket over (bcc's way)
 *   TASK_FILES_OFFSET, FILES_FDT_OFFSET, FDTABLE_MAX_FDS_OFFSET, FDTABLE_FD_OFFSET,
 *   FILE_PRIVATE_DATA_OFFSET, SOCKET_SK_OFFSET   bpfkit/fd.h's fd → socket walk (with ACCEPT_TRACEPOINTS)
 *   SK_PROTOCOL_OFFSET, SK_PROTOCOL_SIZE   struct sock's sk_protocol (a u16 since 5.6, a byte of
 *                       a bitfield before); absent: no check (inet_csk_accept is TCP's own)
 *   SOCK_*_OFFSET, or SOCK_OFFSETS_FROM_HEADERS   struct sock fields (see bpfkit/sock.h)
 *   FILTER_PID, FILTER_FAMILY (0 = all), FILTER_PORTS with MAX_PORTS (the `ports` map),
 *   FILTER_CGROUP_MAP, FILTER_MNTNS_MAP, PIN_ID (and, with FILTER_MNTNS_MAP, bpfkit/task.h's offsets)
 *   USE_RINGBUF/RINGBUF_PAGES   the events channel (bpfkit/events.h)
 */
#if ACCEPT_TRACEPOINTS + ACCEPT_KPROBE != 1
#error "exactly one of ACCEPT_TRACEPOINTS and ACCEPT_KPROBE must be 1"
#endif

#if ACCEPT_KPROBE
#include <uapi/linux/ptrace.h>
#endif
#include "bpfkit/sock.h"
#include "bpfkit/inet_flow.h"

/* Our own name: the kernel headers, included on the kprobe path, define the usual one. */
#define IPPROTO_TCP_ 6

struct accept_event {
    u64 ts;                     /* bpf_ktime_get_ns() */
    u32 pid;                    /* the accepting process (tgid) */
    char comm[16];              /* its thread's name */
    struct bpfkit_flow flow;    /* local = the listening address and port */
};

#define BPFKIT_EVENT struct accept_event
#include "bpfkit/events.h"

#if FILTER_PORTS
/* -P: the local ports to report, filled by user space before attaching (never spliced into C). */
BPF_HASH(ports, u16, u8, MAX_PORTS);
#endif

#include "bpfkit/containers.h"

/* Filters on the accepting task: the cheap ones, before any socket is read. */
static __always_inline bool acceptor_traced(u32 pid)
{
#if FILTER_PID
    if (pid != FILTER_PID)
        return false;
#endif
    return bpfkit_container_allowed();
}

/* A connection the current task has just accepted: the socket's own filters, then the record. */
static __always_inline int report(void *ctx, const void *sk, u32 pid)
{
#ifdef SK_PROTOCOL_OFFSET
    /* accept() also hands out SCTP and MPTCP sockets, whose families are the same. */
#if SK_PROTOCOL_SIZE == 1
    u8 protocol = 0;
#else
    u16 protocol = 0;
#endif
    bpf_probe_read_kernel(&protocol, sizeof(protocol), (const char *)sk + SK_PROTOCOL_OFFSET);
    if (protocol != IPPROTO_TCP_)
        return 0;
#endif
    u16 family = bpfkit_sock_family(sk);
#if FILTER_FAMILY
    if (family != FILTER_FAMILY)
        return 0;
#else
    if (family != BPFKIT_AF_INET && family != BPFKIT_AF_INET6)
        return 0;
#endif
    u16 lport = bpfkit_sock_lport(sk);
#if FILTER_PORTS
    if (!ports.lookup(&lport))
        return 0;
#endif
    struct accept_event *ev = bpfkit_event_reserve();
    if (!ev)
        return 0;
    ev->ts = bpf_ktime_get_ns();
    ev->pid = pid;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    /* Ring buffer space is not zeroed: the unused bytes of an IPv4 address must be. */
    __builtin_memset(&ev->flow, 0, sizeof(ev->flow));
    ev->flow.family = family;
    ev->flow.lport = lport;
    ev->flow.rport = bpfkit_sock_dport(sk);
    bpfkit_sock_addrs(sk, family, ev->flow.laddr, ev->flow.raddr);
    bpfkit_event_submit(ctx, ev);
    return 0;
}

#if ACCEPT_TRACEPOINTS
#include "bpfkit/fd.h"

static __always_inline int accept_exit(void *ctx, long ret)
{
    if (ret < 0)
        return 0;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (!acceptor_traced(pid))
        return 0;
    const void *sk = bpfkit_current_fd_sock(ret);
    if (!sk)
        return 0;
    return report(ctx, sk, pid);
}

TRACEPOINT_PROBE(syscalls, sys_exit_accept4)
{
    return accept_exit(args, args->ret);
}

#if HAVE_ACCEPT
TRACEPOINT_PROBE(syscalls, sys_exit_accept)
{
    return accept_exit(args, args->ret);
}
#endif
#endif /* ACCEPT_TRACEPOINTS */

#if ACCEPT_KPROBE
/* inet_csk_accept() returns the new socket in the task that called accept(). */
int accept_return(struct pt_regs *ctx)
{
    const void *sk = (const void *)PT_REGS_RC(ctx);
    if (!sk)
        return 0;
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (!acceptor_traced(pid))
        return 0;
    return report(ctx, sk, pid);
}
#endif
