// Building a BPF object the way the running suite asks: compiled anew, or loaded from the cache.
// In "cached" mode the program is compiled and stored first, then loaded again, and the test
// fails unless that second load really came from the cache.
import assert from 'node:assert/strict';
import { BPF, type BPFOptions } from 'bcc-node-bindings';

export function newBpf(opts: BPFOptions): BPF {
  if (process.env.BPFKIT_TEST_PATH !== 'cached') return new BPF(opts);
  try { new BPF(opts).close(); } catch { /* the second load must fail the same way */ }
  const bpf = new BPF(opts);
  assert.equal(bpf.cacheStatus, 'hit', 'the program did not come from the cache');
  return bpf;
}
