// The pure parts of steps 3, 4 and 9 (examples/learn/lab-verifier.ts): how a verifier log is cut
// and annotated, and where "processed N insns" is read from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annotate, processed } from '../../examples/learn/lab-verifier.ts';

const LOG = [
  '0: R1=ctx() R10=fp0',
  '6: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,map=counts,ks=4,vs=8)',
  '7: (79) r1 = *(u64 *)(r0 +0)',
  "R0 invalid mem access 'map_value_or_null'",
  'processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  '',
].join('\n');

test('processed() reads the statistics line, and says so when there is none', () => {
  assert.equal(processed(LOG), 'processed 7 insns');
  assert.equal(processed('verification time 45 usec\nstack depth 8\nprocessed 256 insns (limit 1000000)'), 'processed 256 insns');
  assert.equal(processed(undefined), 'no statistics in the log');
});

test('annotate() indents every line and puts a note after the lines its pattern matches (the first pattern wins)', () => {
  const out = annotate(LOG, [[/call bpf_map_lookup_elem/, 'R0 may be NULL'], [/call/, 'not used'], [/r0 \+0/, 'used unchecked']]);
  assert.deepEqual(out.split('\n'), [
    '    0: R1=ctx() R10=fp0',
    '    6: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,map=counts,ks=4,vs=8)   <- R0 may be NULL',
    '    7: (79) r1 = *(u64 *)(r0 +0)   <- used unchecked',
    "    R0 invalid mem access 'map_value_or_null'",
    '    processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  ]);
});

test('annotate() keeps the head and the tail of a long log and says how many lines it left out', () => {
  const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
  assert.deepEqual(annotate(long, [], 2, 3).split('\n'), [
    '    line 0', '    line 1', '    … 95 lines not shown …', '    line 97', '    line 98', '    line 99',
  ]);
  assert.deepEqual(annotate(long, [], 0, 1).split('\n'), ['    … 99 lines not shown …', '    line 99']);
  assert.deepEqual(annotate(long, [], 1, 0).split('\n'), ['    line 0', '    … 99 lines not shown …']);
  // A log one line longer than head + tail is shown whole: the marker would take that line's place.
  assert.equal(annotate(long, [], 50, 49).split('\n').length, 100);
});
