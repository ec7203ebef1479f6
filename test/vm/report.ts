// A kernel's run as the matrix keeps it (test/vm/results/<kernel>.json), and the tables the README
// shows: tool × kernel (outcome, tests, time) and the attach points each tool chose on each kernel.
import type { AttachReport, TapFile } from './tap.ts';
import { toolOf } from './tap.ts';

export interface ToolResult {
  pass: number;
  fail: number;
  skip: number;
  seconds: number;
  /** purpose → chosen attach point, as the tool's --explain said on this kernel. */
  attach: Record<string, string>;
}

export interface KernelRun {
  kernel: string;
  title: string;
  release: string;
  packages: Array<{ name: string; version: string }>;
  date: string;
  /** How the tests ran: directly on this machine, or in a guest under QEMU's software emulation. */
  how: 'host' | 'qemu-tcg';
  cpus: number;
  bootSeconds: number | null;
  wallSeconds: number;
  files: Array<{ file: string; exit: number | null; seconds: number }>;
  tools: Record<string, ToolResult>;
  failed: string[];
}

export function summarize(files: Array<{ file: string; tap: TapFile }>, tools: readonly string[]): Pick<KernelRun, 'tools' | 'failed'> {
  const result: Record<string, ToolResult> = {};
  const failed: string[] = [];
  const entry = (tool: string) => (result[tool] ??= { pass: 0, fail: 0, skip: 0, seconds: 0, attach: {} });
  for (const { file, tap } of files) {
    for (const test of tap.tests) {
      if (test.outcome === 'fail') failed.push(`${file}: ${test.name}`);
      const tool = toolOf(file, test.name, tools);
      if (!tool) continue;
      const r = entry(tool);
      if (test.outcome === 'pass') r.pass++;
      else if (test.outcome === 'fail') r.fail++;
      else r.skip++;
      r.seconds += test.ms / 1000;
    }
    for (const report of tap.attach) addAttach(entry(report.tool), report);
  }
  for (const r of Object.values(result)) r.seconds = Math.round(r.seconds);
  return { tools: Object.fromEntries(tools.filter((t) => result[t]).map((t) => [t, result[t]])), failed };
}

function addAttach(r: ToolResult, { purpose, chosen }: AttachReport): void {
  // The same decision reported by several runs of a test with different options keeps each answer.
  const known = r.attach[purpose];
  if (known === undefined) r.attach[purpose] = chosen;
  else if (!known.split(' | ').includes(chosen)) r.attach[purpose] = `${known} | ${chosen}`;
}

export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')} s`;
}

function columnName(run: KernelRun): string {
  return run.how === 'host' ? `this machine (${run.release})` : `${run.title} (${run.release})`;
}

function outcome(r: ToolResult | undefined): string {
  if (!r) return 'not run';
  const total = r.pass + r.fail + r.skip;
  const word = r.fail ? `**FAIL** ${r.fail} of ${total}` : r.skip ? `pass ${r.pass}, ${r.skip} skipped` : `pass ${r.pass}/${total}`;
  return `${word}, ${duration(r.seconds)}`;
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

export function renderTables(runs: KernelRun[], tools: readonly string[]): string {
  const head = (cols: string[]) => `| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n`;
  let out = '### Outcome per tool (tests passed, time in the tests)\n\n';
  out += head(['tool', ...runs.map(columnName)]);
  for (const tool of tools) out += `| ${tool} | ${runs.map((r) => outcome(r.tools[tool])).join(' | ')} |\n`;
  out += `| *whole run* | ${runs.map((r) => `${r.failed.length ? `**${r.failed.length} failed**` : 'all passed'}, ${duration(r.wallSeconds)}${r.bootSeconds !== null ? ` (boot ${Math.round(r.bootSeconds)} s)` : ''}`).join(' | ')} |\n`;

  out += '\n### Attach points chosen (from each tool\'s `--explain` in its kernel test)\n\n';
  out += head(['tool', 'decision', ...runs.map(columnName)]);
  for (const tool of tools) {
    const purposes = [...new Set(runs.flatMap((r) => Object.keys(r.tools[tool]?.attach ?? {})))];
    for (const purpose of purposes) {
      const cells = runs.map((r) => r.tools[tool]?.attach[purpose] ?? '—');
      const differs = new Set(cells).size > 1;
      out += `| ${tool} | ${escapeCell(purpose)} | ${cells.map((c) => escapeCell(differs ? `**${c}**` : c)).join(' | ')} |\n`;
    }
  }

  out += '\n### The runs\n\n';
  for (const r of runs) {
    const how = r.how === 'host' ? 'directly on this machine' : `in a QEMU guest (software emulation, ${r.cpus} vCPUs)`;
    const packages = r.packages.length ? `; packages ${r.packages.map((p) => `${p.name} ${p.version}`).join(', ')}` : '';
    out += `- **${columnName(r)}**: ${r.date}, ${how}${packages}; ${r.files.length} test files in ${duration(r.wallSeconds)}`;
    out += r.failed.length ? `; failed: ${r.failed.map(escapeCell).join('; ')}\n` : '.\n';
  }
  return out;
}

export const BEGIN = '<!-- vm-results:begin (written by test/vm/run.ts) -->';
export const END = '<!-- vm-results:end -->';

export function replaceBetweenMarkers(readme: string, body: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return `${readme.trimEnd()}\n\n${BEGIN}\n${body}${END}\n`;
  return `${readme.slice(0, start + BEGIN.length)}\n${body}${readme.slice(end)}`;
}
