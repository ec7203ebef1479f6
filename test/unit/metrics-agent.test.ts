// The metrics agent's bookkeeping: the per-tool series limit and the monotonic clamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrainedTotals, SeriesBook, gather, type Collector } from '../../lib/metrics/agent.ts';
import { render } from '../../lib/metrics/exposition.ts';

test('the first N label sets are kept for good; later ones are dropped and each counted once', () => {
  const book = new SeriesBook(2);
  assert.equal(book.admit('a'), true);
  assert.equal(book.admit('b'), true);
  assert.equal(book.admit('c'), false);
  assert.equal(book.admit('c'), false);
  assert.equal(book.admit('d'), false);
  assert.equal(book.admit('a'), true);
  assert.equal(book.dropped, 2);
});

test('a counter never goes down, even if the map it comes from lost an entry', () => {
  const book = new SeriesBook(10);
  assert.equal(book.monotonic('x', 5n), 5n);
  assert.equal(book.monotonic('x', 3n), 5n);
  assert.equal(book.monotonic('x', 9n), 9n);
});

test('running totals add drained values per key', () => {
  const totals = new DrainedTotals<bigint>((a, b) => a + b);
  totals.absorb('k', 2n);
  totals.absorb('k', 3n);
  assert.equal(totals.get('k'), 5n);
});

test('gather adds build info, lost events and dropped series per tool', () => {
  const collector: Collector = {
    tool: 'demo',
    collect: () => [{ name: 'bpfkit_demo_total', help: 'demo', type: 'counter', samples: [{ labels: { k: 'v' }, value: 3n }] }],
    lost: () => 7n,
    dropped: () => 1,
  };
  const text = render(gather([collector]), 'prometheus');
  assert.match(text, /^bpfkit_build_info\{version="[^"]+",node_version="v\d+[^"]*",kernel="[^"]+"\} 1$/m);
  assert.match(text, /^bpfkit_demo_total\{k="v"\} 3$/m);
  assert.match(text, /^bpfkit_lost_events_total\{tool="demo"\} 7$/m);
  assert.match(text, /^bpfkit_series_dropped_total\{tool="demo"\} 1$/m);
});

test('a histogram with no finite buckets (syscall time totals) still has +Inf, _sum and _count', () => {
  const text = render([{ name: 'bpfkit_syscall_duration_seconds', help: 'h', type: 'histogram', series: [{ labels: { syscall: 'read' }, buckets: [], count: 4n, sum: 0.5 }] }], 'prometheus');
  assert.deepEqual(text.split('\n').slice(2, 5), [
    'bpfkit_syscall_duration_seconds_bucket{syscall="read",le="+Inf"} 4',
    'bpfkit_syscall_duration_seconds_sum{syscall="read"} 0.5',
    'bpfkit_syscall_duration_seconds_count{syscall="read"} 4',
  ]);
});
