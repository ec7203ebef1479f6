// A node:test reporter that repeats every failed test at the end of the run, with its file and the
// first lines of its error: the TAP stream above it is long, and CI keeps only its tail.
// Used beside the TAP reporter by the Makefile (`--test-reporter=./test/reporters/failures.mjs`).
const MAX_ERROR_LINES = 20;
// Frames inside node itself say nothing about the test.
const NODE_FRAME = /^\s+at (?:.*\()?node:/;

function errorLines(error) {
  const cause = error?.cause ?? error;
  const text = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  return text.split('\n').filter((line) => !NODE_FRAME.test(line)).slice(0, MAX_ERROR_LINES);
}

export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // A suite fails when one of its tests did; the test itself is reported already.
    if (details?.type === 'suite') continue;
    failed.push({ name, file, lines: errorLines(details?.error) });
  }
  if (failed.length === 0) return;
  yield `\n# ${failed.length} failed:\n`;
  for (const { name, file, lines } of failed) {
    yield `# FAIL ${file ?? '?'} :: ${name}\n`;
    for (const line of lines) yield `#     ${line}\n`;
  }
}
