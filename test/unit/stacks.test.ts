import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MISSED, foldedLine, formatStack, sortByValue, stackIdFailed, type StackSample } from '../../lib/output/stacks.ts';

const both: StackSample = { comm: 'burn-cpu', pid: 42, kernel: ['asm_sysvec_apic_timer_interrupt'], user: ['burn_cpu', 'main'], value: 7 };

test('a stack block is laid out as bcc prints it', () => {
  assert.equal(formatStack(both), [
    '    asm_sysvec_apic_timer_interrupt', '    burn_cpu', '    main',
    '    -                burn-cpu (42)', '        7', '', ''].join('\n'));
  assert.match(formatStack(both, { delimiter: true }), /interrupt\n {4}--\n {4}burn_cpu/);
  assert.equal(formatStack({ ...both, kernel: MISSED, user: null }), '    [Missed Kernel Stack]\n    -                burn-cpu (42)\n        7\n\n');
});

test('folded lines run outermost first, with the delimiter and missed stacks', () => {
  assert.equal(foldedLine(both), 'burn-cpu;main;burn_cpu;asm_sysvec_apic_timer_interrupt 7');
  assert.equal(foldedLine(both, { delimiter: true }), 'burn-cpu;main;burn_cpu;-;asm_sysvec_apic_timer_interrupt 7');
  assert.equal(foldedLine({ ...both, user: MISSED, kernel: null }), 'burn-cpu;[Missed User Stack] 7');
  assert.equal(foldedLine({ ...both, comm: 'a;b', kernel: [], user: [] }), 'a:b 7');
});

test('stack ids: -EFAULT is no stack, other negatives are failures', () => {
  assert.equal(stackIdFailed(-14), false);
  assert.equal(stackIdFailed(-17), true);
  assert.equal(stackIdFailed(3), false);
  assert.deepEqual(sortByValue([{ value: 3 }, { value: 1 }]).map((s) => s.value), [1, 3]);
});

test('stacks that read the same once named are one stack, their values added', async () => {
  const { mergeSamples } = await import('../../lib/output/stacks.ts');
  const merged = mergeSamples([both, { ...both, value: 5 }, { ...both, pid: 43 }, { ...both, user: MISSED }]);
  assert.deepEqual(merged.map((s) => [s.pid, s.value, s.user === MISSED]), [[42, 12, false], [43, 7, false], [42, 7, true]]);
  assert.equal(both.value, 7);
});
