// The block-request core's C (bpf/include/bpfkit/block_requests.h) on rungs this kernel does not
// take by itself: every probe function of each variant compiles and passes this kernel's verifier,
// loaded as the program type it would be attached as (kprobes as KPROBE programs, which load
// where kprobes cannot attach). The rungs this kernel takes run for real in the block tools' tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BPF, PROG_TYPE } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { configureBitesize } from '../../tools/bitesize/program.ts';

const PROG_TYPES: Record<string, number> = { raw_tracepoint: PROG_TYPE.RAW_TRACEPOINT, tracepoint: PROG_TYPE.TRACEPOINT, kprobe: PROG_TYPE.KPROBE };

test('each variant of the core loads: kprobes everywhere, raw tracepoints with a kprobe creation point, classic tracepoints', async (t) => {
  if (!needsBpf(t)) return;
  const live = liveKernel();
  const variants: Array<[string, Partial<KernelView>]> = [
    ['kprobes only', { tracepoint: () => false, rawTracepoints: () => false, kprobes: () => true, kernelFunction: () => true }],
    ['raw tracepoints, kprobe creation', { tracepoint: (c, e) => e !== 'block_io_start' && live.tracepoint(c, e), kprobes: () => true, kernelFunction: () => true }],
    ['raw tracepoints, block_rq_insert creation', { tracepoint: (c, e) => e !== 'block_io_start' && live.tracepoint(c, e) }],
    ['classic tracepoints', { rawTracepoints: () => false }],
  ];
  for (const [name, overrides] of variants) {
    const program = configureBitesize({ perComm: true, perDisk: true }, { ...live, ...overrides });
    const built = buildProgram(program);
    const bpf = new BPF({ text: built.text, includeDirs: built.includeDirs, autoAttach: false });
    try {
      assert.deepEqual(bpf.functionNames().sort(), program.probes.map((p) => p.fnName).sort(), name);
      for (const probe of program.probes) {
        assert.ok(bpf.loadFunc(probe.fnName, PROG_TYPES[probe.kind]).fd >= 0, `${name}: ${probe.kind} ${probe.target}`);
      }
    } finally {
      bpf.close();
    }
  }
});
