// Which attach points a tool chose, read from its --explain output, and what this kernel should
// have made it choose. The expectations are built from the binding's own feature probes (and
// /proc/kallsyms for names), never from a tool's KernelView or configure code: a wrong fallback
// then fails, on whatever kernel the tests run (test/vm boots several and reads the choices from
// the TAP diagnostics reportChoices writes).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { kprobesAvailable, ringBufferSupported, tracepointExists } from 'bcc-node-bindings';
import { syscallFunction } from '../../lib/kernel/kallsyms.ts';
import { startInTest, type ToolOptions } from './tool.ts';

/** The first line of --explain's attach section (lib/run/explain.ts attachLines). */
export const ATTACH_HEADER = 'attach points (candidates best first; the first one this kernel has wins):';

export interface Choice { purpose: string; chosen: string }

/**
 * Each decision of the attach section: `  <purpose>: <chosen>`, each followed by its ladder
 * indented four spaces. The section ends at the first line indented less (the "programs" heading).
 * Only the first ": " splits: a chosen label may hold more (biolatency's "none (no way to trace …: …)").
 */
export function explainedChoices(stderr: string): Choice[] {
  const lines = stderr.split('\n');
  const start = lines.indexOf(ATTACH_HEADER);
  if (start < 0) return [];
  const choices: Choice[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    if (line.startsWith('    ')) continue;
    const colon = line.indexOf(': ');
    if (colon < 0) throw new Error(`not an attach decision: ${JSON.stringify(line)}`);
    choices.push({ purpose: line.slice(2, colon), chosen: line.slice(colon + 2) });
  }
  return choices;
}

/** One TAP diagnostic per decision, `# attach[<tool>] <purpose>: <chosen>`, which test/vm's runner collects. */
export function reportChoices(t: TestContext, tool: string, choices: Choice[]): void {
  for (const { purpose, chosen } of choices) t.diagnostic(`attach[${tool}] ${purpose}: ${chosen}`);
}

/**
 * Runs `<tool> --explain <args>` until its probes are attached, stops it (Ctrl-C, status 0), reports
 * its decisions and returns them as purpose → chosen label.
 */
export async function explainedRun(t: TestContext, tool: string, args: string[], opts: ToolOptions = {}): Promise<{ chosen: Record<string, string>; stderr: string }> {
  const run = startInTest(t, tool, ['--explain', ...args], opts);
  await run.ready;
  assert.equal(await run.stop('SIGINT'), 0, run.stderr);
  const choices = explainedChoices(run.stderr);
  reportChoices(t, tool, choices);
  return { chosen: Object.fromEntries(choices.map((c) => [c.purpose, c.chosen])), stderr: run.stderr };
}

/** The label of the first rung this kernel can use; rungs are checked lazily, as the tools do. */
export function firstUsable(purpose: string, rungs: Array<[label: string | (() => string), usable: () => boolean]>): string {
  const rung = rungs.find(([, usable]) => usable());
  if (!rung) throw new Error(`this kernel offers no attach point for ${purpose}`);
  return typeof rung[0] === 'function' ? rung[0]() : rung[0];
}

export function expectedEventRecords(): string {
  return ringBufferSupported() ? 'ring buffer' : 'perf buffer';
}

/**
 * A syscall's own tracepoints, else kprobes on its kernel function; `nothing` names the last
 * rung of tools for which the syscall may be absent (a newer call, another architecture's).
 */
export function expectedSyscallHook(syscall: string, nothing?: string): string {
  return firstUsable(`${syscall}()`, [
    [`tracepoints syscalls:sys_enter_${syscall} and sys_exit_${syscall}`,
      () => tracepointExists('syscalls', `sys_enter_${syscall}`) && tracepointExists('syscalls', `sys_exit_${syscall}`)],
    [() => `kprobe and kretprobe on ${syscallFunction(syscall)}`, () => kprobesAvailable() && syscallFunction(syscall) !== null],
    ...(nothing ? [[nothing, () => true] as [string, () => boolean]] : []),
  ]);
}
