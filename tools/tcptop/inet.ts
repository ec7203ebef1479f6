// Internet addresses as text, the way bcc's tools print them (Python's socket.inet_ntop, which is
// glibc's): dotted quads for IPv4; for IPv6 lowercase hex groups, the first longest run of two or
// more zero groups written "::", and the IPv4 forms "::ffff:a.b.c.d" and "::a.b.c.d" kept dotted.
// Node's net module parses addresses but has no inet_ntop.

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
