// Reading what node's test runner wrote (TAP, one file per test file) into what the matrix shows:
// each top-level test's outcome and duration, and the attach points the tests reported with
// `t.diagnostic('attach[<tool>] <purpose>: <chosen>')` (test/helpers/attach.ts).

export interface TestOutcome {
  name: string;
  outcome: 'pass' | 'fail' | 'skip' | 'todo';
  ms: number;
}

export interface AttachReport { tool: string; purpose: string; chosen: string }

export interface TapFile {
  tests: TestOutcome[];
  attach: AttachReport[];
}

const TOP_LEVEL = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/;
const DURATION = /^ {2}duration_ms: ([\d.]+)/;
const ATTACH = /^\s*# attach\[([\w-]+)\] (.+?): (.+)$/;

export function parseTap(text: string): TapFile {
  const tests: TestOutcome[] = [];
  const attach: AttachReport[] = [];
  let last: TestOutcome | undefined;
  for (const line of text.split('\n')) {
    const top = TOP_LEVEL.exec(line);
    if (top) {
      const outcome = top[3] === 'SKIP' ? 'skip' : top[3] === 'TODO' ? 'todo' : top[1] === 'ok' ? 'pass' : 'fail';
      last = { name: unescape(top[2]), outcome, ms: 0 };
      tests.push(last);
      continue;
    }
    const duration = DURATION.exec(line);
    if (duration && last) {
      last.ms = Number(duration[1]);
      last = undefined;
      continue;
    }
    const report = ATTACH.exec(line);
    if (report) attach.push({ tool: report[1], purpose: report[2], chosen: report[3] });
  }
  return { tests, attach };
}

/** node's TAP reporter escapes '#' and '\' in names. */
function unescape(name: string): string {
  return name.replace(/\\([#\\])/g, '$1');
}

/**
 * Which tool a test belongs to: a tool's own file (<tool>.test.ts) is that tool's; in a file
 * shared by every tool (conventions) the test's name starts with the tool's.
 */
export function toolOf(file: string, testName: string, tools: readonly string[]): string | null {
  const own = /^(.*)\.test\.ts$/.exec(file)?.[1];
  if (own && tools.includes(own)) return own;
  return tools.find((tool) => testName.startsWith(`${tool}:`) || testName.startsWith(`${tool} `)) ?? null;
}
