// profile's part of the conventions test (test/kernel/conventions.test.ts).
import type { ToolConventions } from './types.ts';

export const conventions: ToolConventions = {
  // The stacks are printed once, when sampling ends (here after a second, or at Ctrl-C).
  jsonRun: ['--json', '1'],
  badInput: [
    ['-p', '1', '-L', '1'], ['-U', '-K'], ['-F', '99', '-c', '1000'], ['-F', '0'], ['-F', '100000000'],
    ['--stack-storage-size', '0'], ['-C', '9999'], ['0'], ['-p', 'abc'], ['-p', '1);foo();//'],
    ['--svg', '/nonexistent-bpfkit-dir/cpu.svg'], ['-f', '--json'],
  ],
};
