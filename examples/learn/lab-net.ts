// What steps 7 and 8 need besides their programs: reading the workloads' reports, summing the
// programs' counts by protocol, and (step 8) a pair of network namespaces joined by a veth pair.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';

const PROTOCOLS: ReadonlyArray<[string, number[]]> = [['TCP', [6]], ['UDP', [17]], ['ICMP', [1, 58]]];

/** Counts by protocol name (TCP, UDP, ICMP with ICMPv6, other), from keys that carry an IP protocol number. */
export function byProtocol(counts: ReadonlyArray<[{ proto: number }, bigint]>): Array<[string, bigint]> {
  const rows: Array<[string, bigint]> = [...PROTOCOLS.map(([name]): [string, bigint] => [name, 0n]), ['other', 0n]];
  for (const [key, n] of counts) {
    const i = PROTOCOLS.findIndex(([, numbers]) => numbers.includes(key.proto));
    rows[i < 0 ? rows.length - 1 : i][1] += n;
  }
  return rows;
}

export interface LoopReport { udpPort: number; datagrams: number; closedPort: number; tcpPort: number; clientPort: number }

/** net-loop's last lines: "udp PORT N SIZE", "closed PORT 1", "tcp SERVER_PORT CLIENT_PORT". */
export function parseLoopReport(text: string): LoopReport {
  const udp = /^udp (\d+) (\d+) \d+$/m.exec(text);
  const closed = /^closed (\d+) 1$/m.exec(text);
  const tcp = /^tcp (\d+) (\d+)$/m.exec(text);
  if (!udp || !closed || !tcp) throw new Error(`net-loop did not report its ports: ${JSON.stringify(text)}`);
  return {
    udpPort: Number(udp[1]), datagrams: Number(udp[2]), closedPort: Number(closed[1]),
    tcpPort: Number(tcp[1]), clientPort: Number(tcp[2]),
  };
}

// --- step 8: two network namespaces and a veth pair between them ---


export interface NetnsPair {
  /** Namespace names, for `ip netns exec NAME …`: a sends, b receives. */
  a: string;
  b: string;
  /** Each namespace's end of the veth pair is called this. */
  ifname: string;
  addrA: string;
  addrB: string;
  /** argv that runs `command args…` inside namespace `ns`. */
  exec(ns: string, command: string, args: string[]): [string, string[]];
  /** Deletes both namespaces, and the veth pair with them; safe to call more than once. */
  close(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * Namespaces `<tag>-a` and `<tag>-b` joined by veth0, with addresses from RFC 5737's
 * documentation range (192.0.2.0/24) that exist only inside them. IPv6 is off in both, so that
 * the link carries only what the step sends (and ARP).
 */
export function makeNetnsPair(tag: string): NetnsPair {
  const a = `${tag}-a`;
  const b = `${tag}-b`;
  let closed = false;
  const pair: NetnsPair = {
    a, b, ifname: 'veth0', addrA: '192.0.2.1', addrB: '192.0.2.2',
    exec: (ns, command, args) => ['ip', ['netns', 'exec', ns, command, ...args]],
    close: () => {
      if (closed) return;
      closed = true;
      for (const ns of [a, b]) {
        try { ip('netns', 'del', ns); } catch { /* never made, or gone already */ }
      }
    },
  };
  try {
    for (const ns of [a, b]) {
      ip('netns', 'add', ns);
      ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    }
    ip('link', 'add', 'veth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', b);
    for (const [ns, addr] of [[a, pair.addrA], [b, pair.addrB]]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'veth0');
      ip('-n', ns, 'link', 'set', 'veth0', 'up');
    }
  } catch (err) {
    pair.close();
    throw err;
  }
  return pair;
}

/** Namespaces whose names start with `prefix`, as `ip netns list` shows them. */
export function namespacesNamed(prefix: string): string[] {
  const text = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return text.split('\n').map((line) => line.split(' ')[0]).filter((name) => name.startsWith(prefix));
}

const CLONE_NEWNET = 0x40000000;
let setns: ReturnType<LibraryHandle['func']> | null = null;

/**
 * Runs `fn` with this thread in network namespace `ns`, then moves it back: what `ip netns exec`
 * does for a whole command, here for one call. Interface names and indexes are per namespace,
 * and an XDP attach names the interface by index in the caller's namespace.
 */
export function insideNetns<T>(ns: string, fn: () => T): T {
  setns ??= koffi.load('libc.so.6').func('int setns(int fd, int nstype)');
  const home = fs.openSync('/proc/thread-self/ns/net', 'r');
  const there = fs.openSync(`/run/netns/${ns}`, 'r');
  try {
    if ((setns(there, CLONE_NEWNET) as number) < 0) throw new Error(`cannot enter network namespace ${ns} (errno ${koffi.errno()})`);
    try {
      return fn();
    } finally {
      if ((setns(home, CLONE_NEWNET) as number) < 0) throw new Error(`cannot return from network namespace ${ns}`);
    }
  } finally {
    fs.closeSync(there);
    fs.closeSync(home);
  }
}

export interface Started {
  /** Settles once the command has printed a line matching `readyLine`. */
  ready: Promise<void>;
  /** Its whole stdout once it has exited; it is killed after `seconds`. */
  finished: Promise<{ status: number | null; stdout: string }>;
  kill(): void;
}

/** Starts a command that says when it is ready (a receiver that has bound its ports). */
export function startUntil(command: string, args: string[], readyLine: RegExp, seconds: number): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  const timer = setTimeout(kill, seconds * 1000);
  let stdout = '';
  const finished = new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout }); });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (readyLine.test(stdout)) resolve();
    });
    void finished.then(({ status }) => reject(new Error(`${command} ${args.join(' ')} ended (status ${status}) before it was ready`)), reject);
  });
  ready.catch(() => { /* the caller sees it through finished as well */ });
  return { ready, finished, kill };
}

/** net-udp recv's report: "got PORT_A A PORT_B B", as a map from port to datagrams received. */
export function parseReceived(text: string): Map<number, number> {
  const m = /^got (\d+) (\d+) (\d+) (\d+)$/m.exec(text);
  if (!m) throw new Error(`net-udp recv did not report what it got: ${JSON.stringify(text)}`);
  return new Map([[Number(m[1]), Number(m[2])], [Number(m[3]), Number(m[4])]]);
}
