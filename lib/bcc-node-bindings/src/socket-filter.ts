// Socket filters: a program attached to one socket (SO_ATTACH_BPF) runs for each packet that
// socket would receive, and its return value is how many bytes of it the socket keeps. On a raw
// packet socket (AF_PACKET) bound to an interface that is every packet the interface sends or
// receives, from the Ethernet header on: bcc's attach_raw_socket, and the oldest use of BPF
// (tcpdump's filters). It needs no kprobes, no tracefs and no BTF.
import koffi from 'koffi';
import { libc } from './ffi/libc.ts';
import { BpfError, errnoText } from './errors.ts';
import { interfaceIndex } from './xdp.ts';
import type { Link } from './attach.ts';
import type { Fn } from './ffi/libbcc.ts';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** Every protocol, in network byte order as socket(2) and sockaddr_ll want it. */
const ETH_P_ALL_BE = 0x0300;
const SOL_SOCKET = 1;
const SO_ATTACH_BPF = 50;

let calls: { socket: Fn; bind: Fn; setsockopt: Fn } | null = null;

function socketCalls() {
  if (calls) return calls;
  const lib = koffi.load('libc.so.6');
  calls = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
  };
  return calls;
}

export interface SocketFilterLink extends Link {
  /** The raw socket; reading it is possible, but the program's maps are the usual output. */
  socketFd: number;
}

/** Opens a raw packet socket on `ifname` and attaches the loaded socket filter `progFd` to it. */
export function attachSocketFilter(progFd: number, fnName: string, ifname: string): SocketFilterLink {
  const ifindex = interfaceIndex(ifname);
  if (ifindex === null) throw new BpfError('ATTACH_MISSING', `no network interface named ${ifname}`);
  const c = socketCalls();
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE) as number;
  if (fd < 0) throw new BpfError('ATTACH', `cannot open a raw socket on ${ifname}: ${errnoText(koffi.errno())}`, { errno: koffi.errno() });
  // The filter goes on before the bind, so that no packet reaches the socket unfiltered.
  const value = Buffer.alloc(4);
  value.writeInt32LE(progFd, 0);
  if ((c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, value, 4) as number) < 0) {
    const errno = koffi.errno();
    libc.close(fd);
    throw new BpfError('ATTACH', `cannot attach ${fnName} to a raw socket: ${errnoText(errno)}`, { errno });
  }
  // struct sockaddr_ll: family u16, protocol be16, ifindex i32, then fields bind() ignores.
  const addr = Buffer.alloc(20);
  addr.writeUInt16LE(AF_PACKET, 0);
  addr.writeUInt16LE(ETH_P_ALL_BE, 2);
  addr.writeInt32LE(ifindex, 4);
  if ((c.bind(fd, addr, addr.length) as number) < 0) {
    const errno = koffi.errno();
    libc.close(fd);
    throw new BpfError('ATTACH', `cannot bind a raw socket to ${ifname}: ${errnoText(errno)}`, { errno });
  }
  return { kind: 'socket_filter', target: ifname, fnName, socketFd: fd, detach: () => { libc.close(fd); } };
}
