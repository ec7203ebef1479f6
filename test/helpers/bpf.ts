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

/**
 * The fields (padding left out) of the struct a table holds as its value, as libbcc lays the C
 * out: the truth a tool's hand-written record offsets are checked against.
 */
export function structFields(bpf: BPF, table: string) {
  const layout = bpf.table(table).info.leafLayout;
  assert.equal(layout.kind, 'struct', `${table}'s value is not a struct`);
  return layout.kind === 'struct' ? layout.fields.filter((f) => f.layout.kind !== 'pad') : [];
}
