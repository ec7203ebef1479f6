import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseSignal, signalName } from '../../lib/kernel/signals.ts';

test("signal names are bash's `kill -l`, for every number it lists", () => {
  const listed = execFileSync('bash', ['-c', 'kill -l'], { encoding: 'utf8' });
  const pairs = [...listed.matchAll(/(\d+)\) SIG(\S+)/g)].map((m) => [Number(m[1]), m[2]] as const);
  assert.ok(pairs.length >= 60);
  for (const [n, name] of pairs) {
    assert.equal(signalName(n), name, `signal ${n}`);
    assert.equal(parseSignal(name), n);
    assert.equal(parseSignal(`SIG${name}`), n);
  }
});

test('signals parse from names in any case, numbers, aliases; anything else is undefined', () => {
  assert.equal(parseSignal('kill'), 9);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('0'), 0);
  assert.equal(parseSignal('IOT'), 6);
  assert.equal(parseSignal('rtmin+3'), 37);
  for (const bad of ['65', '32', 'NOPE', 'RTMIN+40', '', '-1', 'SIG']) assert.equal(parseSignal(bad), undefined, bad);
  assert.equal(signalName(0), undefined);
  assert.equal(signalName(32), undefined);
});
