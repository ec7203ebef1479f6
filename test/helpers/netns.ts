// Two network namespaces joined by a veth pair, for tests that need traffic between distinct
// addresses without touching the host's own network: the addresses exist only inside the
// namespaces (documentation ranges, RFC 5737 / RFC 3849), and deleting the namespaces deletes
// the veth pair with them. Always call close() (in a finally or t.after).
import { execFileSync } from 'node:child_process';

export interface NetnsPair {
  /** Namespace names, for `ip netns exec NAME …`. */
  a: string;
  b: string;
  addrA4: string;
  addrB4: string;
  addrA6: string;
  addrB6: string;
  /** argv to run `cmd args…` inside namespace `ns` (spawn argv[0] with the rest). */
  exec(ns: string, cmd: string, args: string[]): [string, string[]];
  close(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates namespaces `<tag>-a` and `<tag>-b` (tag: a few letters, unique per test run). */
export function makeNetnsPair(tag = `bpfkit${process.pid}`): NetnsPair {
  const a = `${tag}-a`;
  const b = `${tag}-b`;
  // Interface names are limited to 15 characters; they live inside the namespaces only.
  const pair: NetnsPair = {
    a, b,
    addrA4: '192.0.2.1', addrB4: '192.0.2.2',
    addrA6: '2001:db8::1', addrB6: '2001:db8::2',
    exec: (ns, cmd, args) => ['ip', ['netns', 'exec', ns, cmd, ...args]],
    close: () => {
      for (const ns of [a, b]) {
        try { ip('netns', 'del', ns); } catch { /* already gone */ }
      }
    },
  };
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', 'veth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', b);
    for (const [ns, v4, v6] of [[a, pair.addrA4, pair.addrA6], [b, pair.addrB4, pair.addrB6]]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', 'veth0', 'up');
      ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', 'veth0');
      // nodad: usable at once, instead of after duplicate address detection (about a second).
      ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'veth0', 'nodad');
    }
  } catch (err) {
    pair.close();
    throw err;
  }
  return pair;
}
