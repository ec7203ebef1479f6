// The calls XDP attachment needs, declared for koffi — and nothing else.
//
// Through libbpf, not raw bpf()/netlink: libbpf (already the binding's loader) lays out
// bpf_attr for BPF_LINK_CREATE and speaks rtnetlink for the older path, both of which would
// otherwise be a hundred lines of struct packing here. libbcc's bpf_attach_xdp is the last
// resort, for a libbpf older than 0.8 without bpf_xdp_attach: it maps LLVM (~65 MB), which a
// program loaded from the compile cache otherwise never does.
import koffi from 'koffi';
import { libbpfLibrary, optionalFunction } from './libbpf.ts';
import type { Fn } from './libbcc.ts';

export interface XdpCalls {
  /** bpf_link_create(prog_fd, ifindex, BPF_XDP, opts): null on a libbpf before 0.2. */
  link_create: Fn | null;
  /** bpf_xdp_attach(ifindex, prog_fd, flags, opts), netlink; null before libbpf 0.8. */
  xdp_attach: Fn | null;
  if_nametoindex: Fn;
}

let loaded: XdpCalls | null = null;

export function xdpCalls(): XdpCalls {
  if (loaded) return loaded;
  const lib = libbpfLibrary();
  const optional = (proto: string): Fn | null => optionalFunction(lib, proto);
  loaded = {
    link_create: optional('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)'),
    xdp_attach: optional('int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, const void *opts)'),
    if_nametoindex: koffi.load('libc.so.6').func('unsigned int if_nametoindex(const char *ifname)'),
  };
  return loaded;
}
