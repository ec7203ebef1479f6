// pktcount's pure parts: --drop rules, the repeated-option join, rows from per-CPU entries, the
// table and JSON, and --explain's ladders from what the binding tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BPF, XdpAttachment, XdpOptions } from 'bcc-node-bindings';
import { parseArgs, UsageError } from '../../lib/run/cli.ts';
import { attachLines } from '../../lib/run/explain.ts';
import { MAX_DROP_RULES, parseDropRules, spec } from '../../tools/pktcount/options.ts';
import { configurePktcount, xdpChoices } from '../../tools/pktcount/program.ts';
import { intervalJson, keyOf, rowsFrom, rowsTable } from '../../tools/pktcount/rows.ts';

test('--drop rules: tcp and udp need a port, the others take none or 0; duplicates collapse', () => {
  assert.deepEqual(parseDropRules('udp:5001'), [{ proto: 'udp', port: 5001 }]);
  assert.deepEqual(parseDropRules('tcp:80,udp:53,tcp:80,icmp,icmpv6:0,other'), [
    { proto: 'tcp', port: 80 }, { proto: 'udp', port: 53 }, { proto: 'icmp', port: 0 }, { proto: 'icmpv6', port: 0 }, { proto: 'other', port: 0 },
  ]);
  for (const bad of ['udp', 'udp:65536', 'udp:-1', 'sctp:1', 'icmp:8', 'UDP:53', 'udp:53x', '', 'tcp:80 ']) {
    assert.throws(() => parseDropRules(bad), UsageError, bad);
  }
  const many = Array.from({ length: MAX_DROP_RULES + 1 }, (_, i) => `udp:${i + 1}`).join(',');
  assert.throws(() => parseDropRules(many), /at most 64 rules/);
});

test('--drop given several times is one list of rules, wherever it appears', () => {
  assert.deepEqual(parseArgs(spec, ['--drop', 'udp:1', 'eth0', '--drop=tcp:2', '--json']).drop, [{ proto: 'udp', port: 1 }, { proto: 'tcp', port: 2 }]);
  assert.throws(() => parseArgs(spec, ['eth0', '--drop']), /argument --drop needs a value/);
  const o = parseArgs(spec, ['--drop', 'udp:1', '--drop', 'icmp', 'eth0', '5', '3']);
  assert.deepEqual(o.drop, [{ proto: 'udp', port: 1 }, { proto: 'icmp', port: 0 }]);
  assert.deepEqual([o.interface, o.interval, o.count], ['eth0', 5, 3]);
  assert.throws(() => parseArgs(spec, ['eth0', '0']), /argument interval: expected an integer from 1/);
});

test('rows: per-CPU values summed, protocol names, busiest first', () => {
  const rows = rowsFrom([
    [keyOf('udp', 5001), [{ packets: 2n, bytes: 200n, dropped: 2n }, { packets: 3n, bytes: 300n, dropped: 1n }]],
    [{ proto: 0, pad: 0, port: 0 }, [{ packets: 1n, bytes: 60n, dropped: 0n }, { packets: 0n, bytes: 0n, dropped: 0n }]],
    [{ proto: 58, pad: 0, port: 0 }, [{ packets: 1n, bytes: 86n, dropped: 0n }, { packets: 0n, bytes: 0n, dropped: 0n }]],
    [{ proto: 132, pad: 0, port: 0 }, [{ packets: 9n, bytes: 900n, dropped: 0n }]],
  ]);
  assert.deepEqual(rows.map((r) => [r.proto, r.port, r.packets, r.bytes, r.dropped]), [
    ['other', 0, 9n, 900n, 0n], ['udp', 5001, 5n, 500n, 3n], ['icmpv6', 0, 1n, 86n, 0n], ['other', 0, 1n, 60n, 0n],
  ]);
  assert.equal(rowsTable(rows.slice(1, 2)), [
    'PROTO    PORT      PACKETS          BYTES      DROPPED',
    'udp      5001            5            500            3',
  ].join('\n'));
  assert.deepEqual(JSON.parse(JSON.stringify(intervalJson('10:00:00', rows.slice(1, 2)), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))),
    { time: '10:00:00', rows: [{ proto: 'udp', port: 5001, packets: 5, bytes: 500, dropped: 3 }] });
});

function attachment(over: Partial<XdpAttachment>): XdpAttachment {
  return { ifname: 'eth0', ifindex: 2, fnName: 'xdp_pktcount', mode: 'native', mechanism: 'link', attempts: [{ mechanism: 'link', mode: 'native', error: null }], ...over };
}

test('--explain: native by bpf_link, with generic and netlink as the fallbacks', () => {
  const [mode, mech] = xdpChoices(attachment({}));
  assert.match(mode.chosen, /^native XDP/);
  assert.deepEqual(mode.rejected, []);
  assert.match(mech.chosen, /^bpf_link /);
  assert.deepEqual(mode.fallbacks!().map((f) => f.reason), [null]);
  assert.deepEqual(mech.fallbacks!().map((f) => f.label.split(' ')[0]), ['netlink']);
});

test('--explain: generic because the driver refused native; netlink because the kernel refused links', () => {
  const [mode, mech] = xdpChoices(attachment({
    ifname: 'lo', mode: 'generic', mechanism: 'netlink',
    attempts: [
      { mechanism: 'link', mode: 'native', error: 'EINVAL (22)' }, { mechanism: 'link', mode: 'generic', error: 'EINVAL (22)' },
      { mechanism: 'netlink', mode: 'native', error: 'ENOTSUP (95)' }, { mechanism: 'netlink', mode: 'generic', error: null },
    ],
  }));
  assert.equal(mode.purpose, 'XDP mode on lo');
  assert.match(mode.chosen, /^generic XDP/);
  assert.deepEqual(mode.rejected, [{ label: 'native XDP', reason: 'the driver of lo refused it: ENOTSUP (95)' }]);
  assert.deepEqual(mech.rejected, [{ label: 'bpf_link', reason: 'the kernel refused an XDP link (Linux 5.9+): EINVAL (22), EINVAL (22)' }]);
  const lines = attachLines([mode, mech]);
  assert.ok(lines.includes('    not native XDP: the driver of lo refused it: ENOTSUP (95)'));
  // -S: generic by request, not by refusal.
  assert.equal(xdpChoices(attachment({ mode: 'generic', attempts: [{ mechanism: 'link', mode: 'generic', error: null }] }), true)[0].rejected[0].reason, 'not asked for (-S)');
});

test('configurePktcount: sizes as #defines, the choices filled in by attach(), and the binding\'s refusal passed on', () => {
  const calls: Array<[string, string, XdpOptions | undefined]> = [];
  const fake = (result: XdpAttachment | Error) => ({
    attachXdp(fnName: string, ifname: string, options?: XdpOptions) {
      calls.push([fnName, ifname, options]);
      if (result instanceof Error) throw result;
      return result;
    },
  }) as unknown as BPF;
  const program = configurePktcount({ ifname: 'eth0', maxKeys: 1024 });
  assert.deepEqual(program.defines, { MAX_KEYS: 1024, MAX_DROP_RULES: 64 });
  assert.equal(program.attachments.length, 0);
  program.attach(fake(attachment({})));
  assert.deepEqual(program.attachments.map((a) => a.purpose), ['XDP mode on eth0', 'XDP attachment']);
  assert.deepEqual(calls, [['xdp_pktcount', 'eth0', { mode: 'auto' }]]);

  const skb = configurePktcount({ ifname: 'eth0', maxKeys: 1024, skbMode: true });
  skb.attach(fake(attachment({ mode: 'generic' })));
  assert.deepEqual(calls[1][2], { mode: 'generic' });

  const none = configurePktcount({ ifname: 'eth0', maxKeys: 1024 });
  assert.throws(() => none.attach(fake(new Error('cannot attach XDP to eth0 (native by bpf_link: EINVAL (22); …)'))), /cannot attach XDP to eth0/);
  assert.equal(none.attachments.length, 0);
});
