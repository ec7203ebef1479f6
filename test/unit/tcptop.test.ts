// tcptop's user-space side without the kernel: addresses as bcc prints them, bcc's tables to the
// character, sorting and --top, the summary line, and option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv4, formatIPv6 } from '../../lib/output/inet.ts';
import { flowJson, flowRows, flowTables, kb, sortRows, totals, type FlowKey, type FlowRow, type FlowValue } from '../../tools/tcptop/flows.ts';
import { parseLoadavg, summaryLine } from '../../lib/output/loadavg.ts';
import { CLEAR_SCREEN, clearsScreen, intervalStart } from '../../lib/output/screen.ts';
import { runToolToEnd } from '../helpers/tool.ts';

/** Python's "%" formatting for the conversions bcc's tcptop uses: %-Ns, %Ns, %-N.Ms, %-Nd, %Nd. */
function pyFormat(format: string, ...args: Array<string | number>): string {
  let i = 0;
  return format.replace(/%(-?)(\d*)(?:\.(\d+))?([sd])/g, (_m, leftAlign: string, width: string, precision: string | undefined) => {
    let text = String(args[i++]);
    if (precision !== undefined) text = text.slice(0, Number(precision));
    const w = Number(width || 0);
    return leftAlign ? text.padEnd(w) : text.padStart(w);
  });
}

test('IPv6 addresses print as glibc inet_ntop (what bcc shows): zero runs, IPv4 forms', () => {
  // Pairs checked against /usr/bin/python3 socket.inet_ntop on this machine.
  const cases: Array<[string, string]> = [
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000002', '::2'],
    ['00000000000000000000000001020304', '::1.2.3.4'],
    ['00000000000000000000ffff7f000001', '::ffff:127.0.0.1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000100000000000100000001', '2001:db8:1::1:0:1'],
    ['00000000000000000000000000000000', '::'],
    ['00010000000000000000000000000000', '1::'],
    ['20010db800000000000100000000000a', '2001:db8::1:0:0:a'],
    ['0000000000000000ffff00000a000001', '::ffff:0:a00:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['000000000000000000000000ffffffff', '::255.255.255.255'],
    ['20010db8000000010000000000000000', '2001:db8:0:1::'],
    ['20010db8aaaabbbbccccddddeeeeffff', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
  ];
  for (const [hex, text] of cases) assert.equal(formatIPv6(Buffer.from(hex, 'hex')), text, hex);
  assert.equal(formatIPv4([192, 0, 2, 1]), '192.0.2.1');
});

const v4 = (pid: number, comm: string, lport: number, rport: number, rx: number, tx: number): [FlowKey, FlowValue] => [
  { pid, addrs: { family: 2, lport, dport: rport, saddr: [127, 0, 0, 1, ...new Array(12).fill(0)], daddr: [10, 1, 2, 3, ...new Array(12).fill(0)] } },
  { comm, rx_bytes: BigInt(rx), tx_bytes: BigInt(tx) },
];
const v6 = (pid: number, comm: string, lport: number, rport: number, rx: number, tx: number): [FlowKey, FlowValue] => [
  { pid, addrs: { family: 10, lport, dport: rport, saddr: [...new Array(15).fill(0), 1], daddr: [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2] } },
  { comm, rx_bytes: rx, tx_bytes: tx },
];

test('rows print as bcc\'s tcptop prints them: IPv4 table, then an empty line and the wide IPv6 table', () => {
  const rows = sortRows(flowRows([
    v4(181, 'sshd', 22, 57585, 1024, 7_947_264),
    v4(4242, 'a-very-long-command-name', 5000, 6000, 2047, 0),
    v6(17, 'curl', 44960, 443, 6 * 1024 + 5, 1023),
  ]));
  const lines = flowTables(rows);
  assert.deepEqual(lines, [
    pyFormat('%-7s %-12s %-21s %-21s %6s %6s', 'PID', 'COMM', 'LADDR', 'RADDR', 'RX_KB', 'TX_KB'),
    pyFormat('%-7d %-12.12s %-21s %-21s %6d %6d', 181, 'sshd', '127.0.0.1:22', '10.1.2.3:57585', 1, 7761),
    pyFormat('%-7d %-12.12s %-21s %-21s %6d %6d', 4242, 'a-very-long-command-name', '127.0.0.1:5000', '10.1.2.3:6000', 1, 0),
    '',
    pyFormat('%-7s %-12s %-32s %-32s %6s %6s', 'PID', 'COMM', 'LADDR6', 'RADDR6', 'RX_KB', 'TX_KB'),
    pyFormat('%-7d %-12.12s %-32s %-32s %6d %6d', 17, 'curl', '::1:44960', '2001:db8::2:443', 6, 0),
  ]);
  assert.equal(lines[2].slice(8, 20), 'a-very-long-', 'COMM is cut at 12 characters');
});

test('an interval without rows prints the header of the family traced, and nothing stale', () => {
  assert.deepEqual(flowTables([]), [pyFormat('%-7s %-12s %-21s %-21s %6s %6s', 'PID', 'COMM', 'LADDR', 'RADDR', 'RX_KB', 'TX_KB')]);
  assert.deepEqual(flowTables([], 6), [pyFormat('%-7s %-12s %-32s %-32s %6s %6s', 'PID', 'COMM', 'LADDR6', 'RADDR6', 'RX_KB', 'TX_KB')]);
  const onlyV6 = flowTables(flowRows([v6(1, 'x', 1, 2, 3, 4)]));
  assert.equal(onlyV6[0], '', 'bcc starts the IPv6 table with an empty line even when it is the only one');
});

test('sorting is by total bytes by default, or by rx or tx; ties keep a fixed order; --top cuts across families', () => {
  const rows = flowRows([
    v4(3, 'c', 1, 2, 100, 900),   // total 1000
    v4(1, 'a', 1, 2, 600, 0),     // total 600
    v6(2, 'b', 1, 2, 0, 1000),    // total 1000, ties with pid 3
    v4(4, 'd', 1, 2, 700, 100),   // total 800
  ]);
  const pids = (r: FlowRow[]) => r.map((x) => x.pid);
  assert.deepEqual(pids(sortRows(rows)), [2, 3, 4, 1]);
  assert.deepEqual(pids(sortRows(rows, 'rx')), [4, 1, 3, 2]);
  assert.deepEqual(pids(sortRows(rows, 'tx')), [2, 3, 4, 1]);
  assert.deepEqual(pids(sortRows(rows, 'total', 2)), [2, 3]);
  assert.deepEqual(totals(rows), { rxBytes: 1400, txBytes: 2000 });
});

test('KB is bytes / 1024 rounded down, as bcc\'s int(bytes / 1024); JSON keeps the exact bytes', () => {
  assert.deepEqual([kb(0), kb(1023), kb(1024), kb(300_000), kb(654_321)], [0, 0, 1, 292, 638]);
  const [row] = flowRows([v6(9, 'nc', 5, 6, 654_321, 123_456)]);
  assert.deepEqual(flowJson(row), {
    pid: 9, comm: 'nc', family: 6, laddr: '::1', lport: 5, raddr: '2001:db8::2', rport: 6,
    rx_bytes: 654_321, tx_bytes: 123_456, rx_kb: 638, tx_kb: 120,
  });
});

test('the summary line is bcc\'s "%-8s loadavg: %s" with /proc/loadavg as it is, then an empty line', () => {
  const load = parseLoadavg('0.08 0.02 0.17 1/367 17342\n');
  assert.deepEqual([load.load1, load.load5, load.load15, load.running, load.total, load.lastPid], [0.08, 0.02, 0.17, 1, 367, 17342]);
  assert.equal(`${summaryLine('20:27:13', load)}\n`, '20:27:13 loadavg: 0.08 0.02 0.17 1/367 17342\n\n');
});

test('the screen is cleared only on a terminal and without -C; otherwise intervals start with an empty line', () => {
  assert.equal(clearsScreen(false, true), true);
  assert.equal(clearsScreen(true, true), false);
  assert.equal(clearsScreen(false, false), false, 'never escape codes into a file or pipe');
  assert.equal(intervalStart(true), CLEAR_SCREEN);
  assert.equal(intervalStart(false), '\n');
});

test('bad options end with one line and exit 2, before anything is loaded', async () => {
  const asRoot = process.geteuid?.() === 0;
  for (const [args, message] of [
    // Checked once the run starts, after the root check: without root that one fails first.
    ...(asRoot ? [[['-4', '-6'], /argument -6\/--ipv6: not allowed with argument -4\/--ipv4/]] : []),
    [['--sort', 'bytes'], /argument --sort: expected one of rx, tx, total, got "bytes"/],
    [['-n', '0'], /argument -n\/--top: expected an integer/],
    [['0'], /argument interval: expected an integer from 1 to \d+, got "0"/],
    [['1', '0'], /argument count: expected an integer from 1 to \d+, got "0"/],
    [['--cgroupmap', '/sys/fs/bpf/../../etc/passwd'], /pinned map path under \/sys\/fs\/bpf\//],
    ...(asRoot ? [[['--chart', '--json'], /--chart: not allowed with argument --json/]] : []),
  ] as Array<[string[], RegExp]>) {
    const run = await runToolToEnd('tcptop', args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}`);
    assert.equal(run.stdout, '');
  }
});
