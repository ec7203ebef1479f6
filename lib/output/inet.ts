// Internet addresses, TCP states and the flows the kernel hands the network tools, as text the
// way bcc's tools print them. Addresses as Python's socket.inet_ntop (glibc's) writes them: dotted
// quads for IPv4; for IPv6 lowercase hex groups, the first longest run of two or more zero groups
// written "::", and the IPv4 forms "::ffff:a.b.c.d" and "::a.b.c.d" kept dotted. Node's net module
// parses addresses but has no inet_ntop.

export const AF_INET = 2;
export const AF_INET6 = 10;

/** Four bytes in network order → "127.0.0.1". */
export function formatIPv4(bytes: ArrayLike<number>): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Sixteen bytes in network order → "::1", "2001:db8::1", "::ffff:127.0.0.1". */
export function formatIPv6(bytes: ArrayLike<number>): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  // The first longest run of zero words, if it is at least two long.
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // An IPv4 address inside IPv6 (compatible or mapped) stays dotted, as glibc prints it.
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += formatIPv4([bytes[12], bytes[13], bytes[14], bytes[15]]);
      return out;
    }
    out += words[i].toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

/** An address of either family (IPv4 in the first four bytes). */
export function formatAddress(family: number, bytes: ArrayLike<number>): string {
  if (family === AF_INET) return formatIPv4(bytes);
  if (family === AF_INET6) return formatIPv6(bytes);
  throw new RangeError(`unknown address family ${family}`);
}

/** The kernel's TCP states (include/net/tcp_states.h) by number, named as bcc's tools print them. */
export const TCP_STATES: readonly string[] = [
  'UNKNOWN', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE',
];

/** A TCP state's name; a number newer than this list is shown as the number. */
export function tcpStateName(state: number): string {
  return TCP_STATES[state] ?? String(state);
}

/**
 * struct bpfkit_flow (bpf/include/bpfkit/inet_flow.h) as it sits in a record: byte offsets of its
 * fields and its size. The C struct is the truth; test/kernel/inet-flow.test.ts compares these
 * with the layout libbcc reports for it.
 */
export const FLOW_OFFSETS = { laddr: 0, raddr: 16, lport: 32, rport: 34, family: 36 } as const;
export const FLOW_SIZE = 40;

export interface Flow {
  /** 4 or 6. */
  ip: 4 | 6;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
}

/** Decodes a struct bpfkit_flow that starts at `offset` in `buf` (little-endian host). */
export function readFlow(buf: Buffer, offset: number): Flow {
  const family = buf.readUInt16LE(offset + FLOW_OFFSETS.family);
  const v6 = family === AF_INET6;
  const laddr = buf.subarray(offset + FLOW_OFFSETS.laddr, offset + FLOW_OFFSETS.laddr + (v6 ? 16 : 4));
  const raddr = buf.subarray(offset + FLOW_OFFSETS.raddr, offset + FLOW_OFFSETS.raddr + (v6 ? 16 : 4));
  return {
    ip: v6 ? 6 : 4,
    laddr: v6 ? formatIPv6(laddr) : formatIPv4(laddr),
    lport: buf.readUInt16LE(offset + FLOW_OFFSETS.lport),
    raddr: v6 ? formatIPv6(raddr) : formatIPv4(raddr),
    rport: buf.readUInt16LE(offset + FLOW_OFFSETS.rport),
  };
}
