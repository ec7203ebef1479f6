// XDP: a program on a network interface's receive path, run for each packet before the kernel
// allocates anything for it. Two choices are made here, best first, and both are reported:
//
// - Mode. Native ("driver") XDP runs in the driver's receive loop; generic ("skb") XDP runs
//   later, on an skb the kernel built anyway, and works on any interface. Native is tried first
//   and the driver's refusal (EOPNOTSUPP: no ndo_bpf) is kept as the reason for generic.
// - Mechanism. A bpf_link (BPF_LINK_CREATE with attach type BPF_XDP, Linux 5.9+) belongs to its
//   file descriptor: when the process dies, even by SIGKILL, the kernel closes the fd and the
//   program leaves the interface. A netlink attachment (IFLA_XDP, every kernel with XDP) belongs
//   to the interface and outlives the process; close() and the exit hooks remove it, SIGKILL
//   cannot. The link is tried first.
import koffi from 'koffi';
import { xdpCalls } from './ffi/xdp.ts';
import { libbcc } from './ffi/libbcc.ts';
import { libc } from './ffi/libc.ts';
import { BpfError, EEXIST, EPERM, errnoText } from './errors.ts';
import { ATTACH_TYPE } from './features.ts';
import type { Link } from './attach.ts';

export type XdpMode = 'native' | 'generic';
export type XdpMechanism = 'link' | 'netlink';

export interface XdpOptions {
  /** 'auto' (default): native where the driver has it, else generic. */
  mode?: 'auto' | XdpMode;
  /** 'auto' (default): a bpf_link where the kernel has XDP links, else netlink. */
  mechanism?: 'auto' | XdpMechanism;
}

export interface XdpAttempt {
  mechanism: XdpMechanism;
  mode: XdpMode;
  /** null for the attempt that succeeded; else the kernel's answer, "EOPNOTSUPP (95)". */
  error: string | null;
}

/** What attachXdp did, for --explain. */
export interface XdpAttachment {
  ifname: string;
  ifindex: number;
  fnName: string;
  mode: XdpMode;
  mechanism: XdpMechanism;
  /** Every attempt in order, the last one the one that worked. */
  attempts: XdpAttempt[];
}

const XDP_FLAGS_UPDATE_IF_NOEXIST = 1;
const XDP_FLAGS_SKB_MODE = 2;
const XDP_FLAGS_DRV_MODE = 4;
const MODE_FLAGS: Record<XdpMode, number> = { native: XDP_FLAGS_DRV_MODE, generic: XDP_FLAGS_SKB_MODE };
const EBUSY = 16;

/** The kernel's own rule (dev_valid_name): 1-15 bytes, not "." or "..", no '/', ':' or white space. */
export function validInterfaceName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/** The interface's index in this process's network namespace, or null when it has none by that name. */
export function interfaceIndex(ifname: string): number | null {
  if (!validInterfaceName(ifname)) throw new BpfError('INVALID_ARGUMENT', `${JSON.stringify(ifname)} is not a network interface name`);
  const index = xdpCalls().if_nametoindex(ifname) as number;
  return index > 0 ? index : null;
}

function sizedOpts(fill: (opts: Buffer) => void): Buffer {
  // struct bpf_link_create_opts / bpf_xdp_attach_opts: size_t sz first; 16 bytes reach the one
  // field used (libbpf treats the fields past sz as zero).
  const opts = Buffer.alloc(16);
  opts.writeBigUInt64LE(16n, 0);
  fill(opts);
  return opts;
}

function tryLink(progFd: number, ifindex: number, mode: XdpMode): { fd: number; errno: number } {
  const create = xdpCalls().link_create;
  if (!create) return { fd: -1, errno: 0 };
  const fd = create(progFd, ifindex, ATTACH_TYPE.XDP, sizedOpts((o) => o.writeUInt32LE(MODE_FLAGS[mode], 8))) as number;
  return { fd, errno: fd < 0 ? koffi.errno() : 0 };
}

function netlinkSet(ifname: string, ifindex: number, progFd: number, flags: number, expectedFd?: number): number {
  const attach = xdpCalls().xdp_attach;
  if (attach) {
    // old_prog_fd makes libbpf add XDP_FLAGS_REPLACE: a detach removes our program, never one
    // someone attached since.
    const opts = expectedFd === undefined ? null : sizedOpts((o) => o.writeInt32LE(expectedFd, 8));
    return (attach(ifindex, progFd, flags, opts) as number) < 0 ? koffi.errno() : 0;
  }
  return (libbcc().attach_xdp(ifname, progFd, flags) as number) < 0 ? koffi.errno() || EPERM : 0;
}

/**
 * Attaches a loaded XDP program to `ifname`. Returns the Link that undoes it (BPF.close() and
 * the exit hooks walk those) and what was chosen. An interface that already has an XDP program
 * is refused (ATTACH), never replaced.
 */
export function attachXdp(progFd: number, fnName: string, ifname: string, opts: XdpOptions = {}): { link: Link; attachment: XdpAttachment } {
  const ifindex = interfaceIndex(ifname);
  if (ifindex === null) throw new BpfError('ATTACH_MISSING', `no network interface named ${ifname} in this network namespace`);
  const modes: XdpMode[] = !opts.mode || opts.mode === 'auto' ? ['native', 'generic'] : [opts.mode];
  const mechanisms: XdpMechanism[] = !opts.mechanism || opts.mechanism === 'auto' ? ['link', 'netlink'] : [opts.mechanism];
  const attempts: XdpAttempt[] = [];
  const done = (mechanism: XdpMechanism, mode: XdpMode, detach: () => void) => {
    attempts.push({ mechanism, mode, error: null });
    return {
      link: { kind: 'xdp' as const, target: ifname, fnName, detach },
      attachment: { ifname, ifindex, fnName, mode, mechanism, attempts },
    };
  };
  const refuse = (errno: number): never => {
    if (errno === EPERM && process.geteuid?.() !== 0) throw new BpfError('NOT_ROOT', `attaching XDP to ${ifname} needs root`, { errno });
    if (errno === EPERM) throw new BpfError('ATTACH', `the kernel refused XDP on ${ifname}: ${errnoText(errno)}`, { errno });
    throw new BpfError('ATTACH', `${ifname} already has an XDP program (see \`ip link show ${ifname}\`); bpfkit does not replace it`, { errno });
  };

  for (const mechanism of mechanisms) {
    for (const mode of modes) {
      if (mechanism === 'link') {
        const { fd, errno } = tryLink(progFd, ifindex, mode);
        if (fd >= 0) return done('link', mode, () => { libc.close(fd); });
        if (errno === EBUSY || errno === EEXIST || errno === EPERM) refuse(errno);
        attempts.push({ mechanism, mode, error: errno ? errnoText(errno) : 'libbpf has no bpf_link_create' });
      } else {
        const flags = XDP_FLAGS_UPDATE_IF_NOEXIST | MODE_FLAGS[mode];
        const errno = netlinkSet(ifname, ifindex, progFd, flags);
        if (errno === 0) {
          return done('netlink', mode, () => {
            const err = netlinkSet(ifname, ifindex, -1, MODE_FLAGS[mode], progFd);
            if (err) throw new BpfError('ATTACH', `cannot detach XDP from ${ifname}: ${errnoText(err)}`, { errno: err });
          });
        }
        if (errno === EBUSY || errno === EEXIST || errno === EPERM) refuse(errno);
        attempts.push({ mechanism, mode, error: errnoText(errno) });
      }
    }
  }
  const tried = attempts.map((a) => `${a.mode} by ${a.mechanism === 'link' ? 'bpf_link' : 'netlink'}: ${a.error}`).join('; ');
  throw new BpfError('NOT_SUPPORTED', `cannot attach XDP to ${ifname} (${tried})`);
}
