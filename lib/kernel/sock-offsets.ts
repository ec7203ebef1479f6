// The struct sock fields bpf/include/bpfkit/sock.h reads (family, ports, addresses), at offsets
// from the running kernel's BTF, for every tool that reads sockets the kernel hands it (tcptop;
// tcpconnect, tcpaccept, tcplife and tcpretrans to come). The compile-time headers may be another
// kernel's, as on a custom kernel: their offsets would read the wrong bytes without an error.
import { chooseAttach, type AttachChoice } from '../run/attach-plan.ts';
import type { KernelView } from './view.ts';

/** #define → field of struct sock_common (struct sock's first member, __sk_common). */
const FIELDS: Record<string, string> = {
  SOCK_FAMILY_OFFSET: 'skc_family',
  SOCK_NUM_OFFSET: 'skc_num',
  SOCK_DPORT_OFFSET: 'skc_dport',
  SOCK_RCV_SADDR_OFFSET: 'skc_rcv_saddr',
  SOCK_DADDR_OFFSET: 'skc_daddr',
};

/** Present only with CONFIG_IPV6; without it no socket is AF_INET6 and 0 is never read. */
const IPV6_FIELDS: Record<string, string> = {
  SOCK_V6_RCV_SADDR_OFFSET: 'skc_v6_rcv_saddr',
  SOCK_V6_DADDR_OFFSET: 'skc_v6_daddr',
};

/** The offsets bpfkit/sock.h needs, from BTF; null when BTF does not describe struct sock. */
export function sockOffsets(kernel: KernelView): Record<string, number> | null {
  const defines: Record<string, number> = {};
  for (const [name, field] of Object.entries(FIELDS)) {
    const offset = kernel.offset('sock', `__sk_common.${field}`);
    if (offset === undefined) return null;
    defines[name] = offset;
  }
  for (const [name, field] of Object.entries(IPV6_FIELDS)) defines[name] = kernel.offset('sock', `__sk_common.${field}`) ?? 0;
  return defines;
}

/**
 * The #defines for bpfkit/sock.h: BTF's offsets, else the headers' (right only when they are the
 * running kernel's), with the reason for --explain.
 */
export function chooseSockOffsets(kernel: KernelView): { value: Record<string, number>; choice: AttachChoice } {
  const fromBtf = sockOffsets(kernel);
  return chooseAttach('struct sock field offsets', [
    {
      label: "the running kernel's BTF",
      unavailable: () => fromBtf ? null : 'no BTF for struct sock (/sys/kernel/btf/vmlinux)',
      value: fromBtf ?? {},
    },
    {
      label: "the kernel headers libbcc compiles with (right only when they are the running kernel's)",
      unavailable: () => null,
      value: { SOCK_OFFSETS_FROM_HEADERS: 1 },
    },
  ]);
}
