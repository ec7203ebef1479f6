// The kernel symboliser (bcc-node-bindings/src/symbols/kernel.ts, which lib/kernel/ksyms.ts re-exports)
// on a fixed kallsyms text: addresses to "name+0xoff", modules named, what no symbol covers "[unknown]".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNKNOWN_SYMBOL, formatSymbol, parseKallsyms } from '../../lib/kernel/ksyms.ts';

// As /proc/kallsyms lists them: the core kernel in address order, data symbols among the
// functions, then modules each in its own order (here out of order on purpose).
const KALLSYMS = [
  '0000000000000000 A fixed_percpu_data',
  'ffffffff81000000 T _stext',
  'ffffffff81000000 T startup_64',
  'ffffffff81001000 t tcp_v4_rcv',
  'ffffffff81001800 D some_data',
  'ffffffff81002000 W weak_function',
  'ffffffff81003000 T sk_skb_reason_drop',
  'ffffffffc0201000 t nft_do_chain\t[nf_tables]',
  'ffffffffc0200000 t nf_tables_init\t[nf_tables]',
  'ffffffffc0300000 T veth_xmit\t[veth]',
  '',
].join('\n');

test('an address inside a function: its name and the offset in hex, as bcc prints it', () => {
  const syms = parseKallsyms(KALLSYMS);
  assert.equal(syms.symbolise(0xffffffff81001099n), 'tcp_v4_rcv+0x99');
  assert.equal(syms.symbolise(0xffffffff81003090n), 'sk_skb_reason_drop+0x90');
  assert.equal(syms.symbolise(0xffffffff81001000n), 'tcp_v4_rcv+0x0');
});

test('data symbols are not functions: an address past one still belongs to the function before it', () => {
  assert.equal(parseKallsyms(KALLSYMS).symbolise(0xffffffff81001900n), 'tcp_v4_rcv+0x900');
  assert.equal(parseKallsyms(KALLSYMS).symbolise(0xffffffff81002010n), 'weak_function+0x10');
});

test('module symbols carry the module, whatever order kallsyms lists them in', () => {
  const syms = parseKallsyms(KALLSYMS);
  assert.equal(syms.symbolise(0xffffffffc020146fn), 'nft_do_chain+0x46f [nf_tables]');
  assert.equal(syms.symbolise(0xffffffffc0200010n), 'nf_tables_init+0x10 [nf_tables]');
  assert.equal(syms.symbolise(0xffffffffc0300004n), 'veth_xmit+0x4 [veth]');
  assert.deepEqual(syms.lookup(0xffffffffc0300004n), { name: 'veth_xmit', offset: 4, module: 'veth' });
  assert.deepEqual(syms.lookup(0xffffffff81001099n), { name: 'tcp_v4_rcv', offset: 0x99 });
});

test('below the first symbol, or a user address: [unknown]', () => {
  const syms = parseKallsyms(KALLSYMS);
  assert.equal(syms.symbolise(0xffffffff80ffffffn), UNKNOWN_SYMBOL);
  assert.equal(syms.symbolise(0x401000n), UNKNOWN_SYMBOL);
  assert.equal(syms.lookup(0n), null);
  assert.equal(formatSymbol(null), '[unknown]');
});

test('a kallsyms read without privilege (every address zero) or unreadable knows nothing', () => {
  const hidden = parseKallsyms('0000000000000000 T _stext\n0000000000000000 t tcp_v4_rcv\n');
  assert.equal(hidden.size, 0);
  assert.equal(hidden.symbolise(0xffffffff81001099n), UNKNOWN_SYMBOL);
  assert.equal(parseKallsyms('').symbolise(0xffffffff81001099n), UNKNOWN_SYMBOL);
});

test('the table keeps the functions only, sorted: the ones above, minus data and zero addresses', () => {
  assert.equal(parseKallsyms(KALLSYMS).size, 8);
  // _stext and startup_64 share an address: either name is right, the lookup is stable.
  assert.match(parseKallsyms(KALLSYMS).symbolise(0xffffffff81000010n), /^(_stext|startup_64)\+0x10$/);
});
