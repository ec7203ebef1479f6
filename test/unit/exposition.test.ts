import { test } from 'node:test';
import assert from 'node:assert/strict';
import { log2BucketBounds, negotiate, render, type MetricFamily } from '../../lib/metrics/exposition.ts';
import { parseListenAddress } from '../../lib/metrics/server.ts';

const families: MetricFamily[] = [
  { name: 'bpfkit_syscalls_total', help: 'System calls made.', type: 'counter', samples: [
    { labels: { syscall: 'read' }, value: 12n }, { labels: { syscall: 'we"ird\\name\n' }, value: 3 }] },
  { name: 'bpfkit_build_info', help: 'Build information.', type: 'gauge', samples: [{ labels: { version: '0.1.0' }, value: 1 }] },
  { name: 'bpfkit_block_io_duration_seconds', help: 'Block I/O latency.', type: 'histogram', series: [{
    labels: { disk: 'loop0' }, buckets: [{ le: 2e-6, count: 1n }, { le: 4e-6, count: 3n }], count: 3n, sum: 0.000007 }] },
];

test('the text format: HELP and TYPE lines, escaped labels, histogram buckets ending in +Inf', () => {
  assert.equal(render(families, 'prometheus'), [
    '# HELP bpfkit_syscalls_total System calls made.',
    '# TYPE bpfkit_syscalls_total counter',
    'bpfkit_syscalls_total{syscall="read"} 12',
    'bpfkit_syscalls_total{syscall="we\\"ird\\\\name\\n"} 3',
    '# HELP bpfkit_build_info Build information.',
    '# TYPE bpfkit_build_info gauge',
    'bpfkit_build_info{version="0.1.0"} 1',
    '# HELP bpfkit_block_io_duration_seconds Block I/O latency.',
    '# TYPE bpfkit_block_io_duration_seconds histogram',
    'bpfkit_block_io_duration_seconds_bucket{disk="loop0",le="0.000002"} 1',
    'bpfkit_block_io_duration_seconds_bucket{disk="loop0",le="0.000004"} 3',
    'bpfkit_block_io_duration_seconds_bucket{disk="loop0",le="+Inf"} 3',
    'bpfkit_block_io_duration_seconds_sum{disk="loop0"} 0.000007',
    'bpfkit_block_io_duration_seconds_count{disk="loop0"} 3',
    '',
  ].join('\n'));
});

test('OpenMetrics: counter families drop _total in TYPE, samples keep it, and # EOF ends it', () => {
  const text = render(families, 'openmetrics');
  assert.match(text, /^# TYPE bpfkit_syscalls counter\nbpfkit_syscalls_total\{syscall="read"\} 12$/m);
  assert.ok(text.endsWith('# EOF\n'));
});

test('the scraper\'s Accept header picks the format', () => {
  assert.equal(negotiate('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'), 'openmetrics');
  assert.equal(negotiate('text/plain'), 'prometheus');
  assert.equal(negotiate(undefined), 'prometheus');
});

test('log2 slots become exact cumulative le bounds: slot i holds values below 2^i units', () => {
  // bcc's bpf_log2l: slot 1 = 0..1, slot 2 = 2..3, slot 3 = 4..7 (µs here).
  const { buckets, count } = log2BucketBounds([0, 5, 0, 2, 0, 0], 1e-6);
  assert.deepEqual(buckets, [{ le: 2e-6, count: 5n }, { le: 4e-6, count: 5n }, { le: 8e-6, count: 7n }]);
  assert.equal(count, 7n);
  assert.deepEqual(log2BucketBounds([], 1e-6), { buckets: [], count: 0n });
});

test('listen addresses: a port alone binds to loopback', () => {
  assert.deepEqual(parseListenAddress('9435'), { host: '127.0.0.1', port: 9435 });
  assert.deepEqual(parseListenAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListenAddress('[::1]:9435'), { host: '::1', port: 9435 });
  for (const bad of ['', 'x', '70000', 'a:b:c', '1.2.3.4:', '-1']) assert.throws(() => parseListenAddress(bad));
});
