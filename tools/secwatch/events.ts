// secwatch's records: secwatch.bpf.c's struct alert_record as a SecEvent (model.ts). The layout is
// fixed by the C struct; the test of the decoder builds records byte by byte from it.
import path from 'node:path';
import { EVENT_KINDS, type SecEvent } from './model.ts';

/** secwatch.bpf.c's SYS_* numbers: the call behind an event. */
export const SYSCALL_NAMES = [
  'execve', 'open', 'openat', 'openat2', 'creat', 'connect', 'ptrace', 'init_module', 'finit_module', 'chmod', 'fchmodat',
  'fchmodat2', 'fchmod', 'symlink', 'symlinkat', 'link', 'linkat', 'dup2', 'dup3', 'bpf', 'truncate', 'ftruncate',
] as const;

/** sizeof(struct alert_record). */
export const ALERT_RECORD_SIZE = 640;

const AF_INET = 2;
const AF_INET6 = 10;

function cString(buf: Buffer, offset: number, size: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 || end > offset + size ? offset + size : end);
}

function address(bytes: Buffer, family: number): string {
  if (family === AF_INET) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The longest run of zero groups becomes "::" (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function decodeAlertRecord(buf: Buffer): SecEvent {
  const kind = EVENT_KINDS[buf.readUInt32LE(32)] ?? 'exec';
  const value = buf.readUInt32LE(60);
  const value2 = buf.readUInt32LE(64);
  const ev: SecEvent = {
    ts: buf.readBigUInt64LE(0),
    matched: buf.readBigUInt64LE(8),
    acted: buf.readBigUInt64LE(16),
    heldBack: buf.readBigUInt64LE(24),
    kind,
    syscall: SYSCALL_NAMES[buf.readUInt32LE(36)] ?? String(buf.readUInt32LE(36)),
    pid: buf.readUInt32LE(40),
    tid: buf.readUInt32LE(44),
    ppid: buf.readUInt32LE(48),
    uid: buf.readUInt32LE(52),
    inContainer: buf.readUInt32LE(68) !== 0,
    comm: cString(buf, 96, 16),
    pcomm: cString(buf, 112, 16),
    path: cString(buf, 128, 256),
  };
  if (buf.readUInt32LE(72)) ev.pathTruncated = true;
  // "." and ".." collapsed as the kernel would resolve them (symbolic links aside).
  if (buf.readUInt32LE(76)) {
    ev.unresolved = true;
    ev.path = path.posix.normalize(ev.path);
  }
  const flags = buf.readUInt32LE(56);
  switch (kind) {
    case 'open': case 'chmod': ev.flags = flags; break;
    case 'link': ev.linkPath = cString(buf, 384, 256); break;
    case 'connect':
      ev.port = value;
      ev.addr = value2 === AF_INET || value2 === AF_INET6 ? address(buf.subarray(80, 96), value2) : '';
      break;
    case 'ptrace': ev.request = value; ev.targetPid = value2; break;
    case 'dup': ev.fd = value; ev.oldFd = value2; break;
    case 'bpf': ev.progType = value; break;
    default: break;
  }
  return ev;
}
