// Expected output comes from bcc's own Python printers; regenerate with
// /usr/bin/python3 test/fixtures/histogram/make-fixtures.py
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  formatJsonHistogram,
  formatLinearHistogram,
  formatLinearSections,
  formatLog2Histogram,
  formatLog2Sections,
  histogramJson,
  linearBuckets,
  log2Buckets,
  stars,
  type Count,
  type HistogramSection,
  type SectionLabel,
  type SectionOptions,
} from '../../lib/bcc-node-bindings/src/histogram.ts';

type Json = number | string;
interface Case {
  fn: string;
  valType: string;
  ts?: string;
  slots?: Json[];
  labelKind?: 'int' | 'string';
  sections?: { label: Json; slots: Json[] }[];
  opts: { stripLeadingZero?: boolean; sectionHeader?: string; sectionPrint?: 'identity' | 'flagNames' };
}

const dir = new URL('../fixtures/histogram/', import.meta.url);
const cases: Record<string, Case> = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8'));
const used = new Set<string>();

const count = (x: Json): Count => (typeof x === 'string' ? BigInt(x) : x);
const FLAG_NAMES: Record<string, string> = { 1: 'Read', 2: 'Write', 4: 'Sync-Write' };
const sectionPrinters = { identity: String, flagNames: (l: SectionLabel) => FLAG_NAMES[String(l)] };

function load(name: string) {
  const c = cases[name];
  assert.ok(c, `no case ${name} in cases.json`);
  used.add(name);
  const sections: HistogramSection[] = (c.sections ?? []).map((s) => ({
    label: c.labelKind === 'int' ? count(s.label) : s.label,
    slots: s.slots.map(count),
  }));
  const opts: SectionOptions = {
    stripLeadingZero: c.opts.stripLeadingZero,
    sectionHeader: c.opts.sectionHeader,
    sectionPrint: c.opts.sectionPrint && sectionPrinters[c.opts.sectionPrint],
  };
  return { c, slots: (c.slots ?? []).map(count), sections, opts };
}

function render(name: string, transform = (s: HistogramSection[]) => s): string {
  const { c, slots, sections, opts } = load(name);
  switch (c.fn) {
    case 'formatLog2Histogram':
      return formatLog2Histogram(slots, c.valType, opts);
    case 'formatLinearHistogram':
      return formatLinearHistogram(slots, c.valType, opts);
    case 'formatLog2Sections':
      return formatLog2Sections(transform(sections), c.valType, opts);
    case 'formatLinearSections':
      return formatLinearSections(transform(sections), c.valType, opts);
    case 'formatJsonHistogram':
      if (!c.sections) return formatJsonHistogram(slots, c.valType, 'log2', { ts: c.ts });
      return sections
        .map((s) => formatJsonHistogram(s.slots, c.valType, 'log2', { ts: c.ts, sectionHeader: opts.sectionHeader, sectionLabel: s.label }))
        .join('');
  }
  throw new Error(`unknown fn ${c.fn}`);
}

const expected = (name: string) => readFileSync(new URL(`${name}.out`, dir), 'utf8');
const matchesBcc = (name: string, transform?: (s: HistogramSection[]) => HistogramSection[]) =>
  assert.equal(render(name, transform), expected(name));

test('log2: all-zero slots print nothing, not even the header', () => matchesBcc('log2-empty'));
test('log2: a count only in slot 0 prints nothing, as bpf_log2l never fills slot 0', () => matchesBcc('log2-only-slot0'));
test('log2: slot 1 is labelled "0 -> 1" (the low == high decrement)', () => matchesBcc('log2-single-slot1'));
test('log2: zero slots between counts are printed, up to the last positive slot', () => matchesBcc('log2-gaps'));
test('log2: leading zero rows are printed by default', () => matchesBcc('log2-leading-zeros'));
test('log2: stripLeadingZero drops zero rows before the first count, keeps later zeros and the header', () =>
  matchesBcc('log2-leading-zeros-strip'));
test('log2: slot 0 is not printed but its count still sets the star scale', () => matchesBcc('log2-slot0-scales-stars'));
test('log2: a last slot of 32 keeps the 10-column layout', () => matchesBcc('log2-idx32'));
test('log2: a last slot above 32 switches to 20-column bounds and 20-wide stars', () => matchesBcc('log2-idx33'));
test('log2: u64 bounds and counts past 2^53 print exactly; a long val type overflows its column', () =>
  matchesBcc('log2-idx64-huge'));
test('stars: a ratio just under a whole star rounds up, as in bcc\'s float division', () => matchesBcc('log2-star-rounding'));
test('stars: the star count is the floor of 40 * count / max', () => matchesBcc('log2-star-thirds'));

test('stars: matches bcc _stars on sampled values, including its "+" overflow marker', () => {
  const samples: [Json, Json, number, string][] = JSON.parse(readFileSync(new URL('stars.json', dir), 'utf8'));
  for (const [val, max, width, want] of samples) {
    assert.equal(stars(count(val), count(max), width), want, `_stars(${val}, ${max}, ${width})`);
  }
});

test('linear: all-zero slots print nothing', () => matchesBcc('linear-empty'));
test('linear: slot 0 is a real value, so a count there prints the header and row 0', () => matchesBcc('linear-only-slot0'));
test('linear: zero slots between counts are printed, up to the last positive slot', () => matchesBcc('linear-gaps'));
test('linear: stripLeadingZero drops zero rows before the first count only', () => matchesBcc('linear-strip'));
test('linear: 1025 slots with counts past 2^64 print exactly', () => matchesBcc('linear-1025'));

test('sections: each section is a blank line, "<header> = <label>", then its histogram, in the order given', () =>
  matchesBcc('sections-log2-disks'));
test('sections: default "Bucket ptr" header and bare integer labels; sorting (bucket_sort_fn) is the caller\'s', () =>
  matchesBcc('sections-log2-int-sorted', (s) => [...s].sort((a, b) => (BigInt(a.label) < BigInt(b.label) ? -1 : 1))));
test('sections: without sectionPrint, string labels are shown as Python repr() with its quote choice', () =>
  matchesBcc('sections-log2-str-repr'));
test('sections: linear sections with sectionPrint names and stripLeadingZero', () => matchesBcc('sections-linear-flags'));
test('sections: no sections print nothing', () => assert.equal(formatLog2Sections([], 'usecs'), ''));

test('json: drops slot 0, lists every slot up to the last non-zero one, as a Python dict repr', () => matchesBcc('json-log2'));
test('json: only slot 0 set gives an empty data list', () => matchesBcc('json-empty'));
test('json: a section label is added under the section header, one line per section', () => matchesBcc('json-sections'));
test('json: the section header defaults to "Bucket ptr" and integer labels stay integers', () => matchesBcc('json-sections-int'));

test('json: histogramJson returns the same structure as data, numbers where safe and bigints beyond', () => {
  const slots = [9n, 3n, 0n, 2n ** 64n - 1n];
  assert.deepEqual(histogramJson(slots, 'usecs', 'log2', { ts: 'T', sectionHeader: 'disk', sectionLabel: 'sda' }), {
    ts: 'T',
    val_type: 'usecs',
    data: [
      { 'interval-start': 0, 'interval-end': 1, count: 3 },
      { 'interval-start': 2, 'interval-end': 3, count: 0 },
      { 'interval-start': 4, 'interval-end': 7, count: 2n ** 64n - 1n },
    ],
    disk: 'sda',
  });
  assert.match(String(histogramJson([0, 1], 'usecs', 'log2').ts), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
});

test('json: linear kind (no bcc counterpart) gives one [i, i] interval per slot from 0', () => {
  assert.deepEqual(histogramJson([0, 2, 0, 5, 0], 'kbytes', 'linear', { ts: 'T' }).data, [
    { 'interval-start': 0, 'interval-end': 0, count: 0 },
    { 'interval-start': 1, 'interval-end': 1, count: 2 },
    { 'interval-start': 2, 'interval-end': 2, count: 0 },
    { 'interval-start': 3, 'interval-end': 3, count: 5 },
  ]);
});

// The bucket helpers must describe exactly the rows the printers emit.
function printedRows(text: string): string[][] {
  return text.split('\n').slice(1, -1).map((line) => line.split('|')[0].match(/\d+/g) ?? []);
}
for (const name of ['log2-gaps', 'log2-leading-zeros-strip', 'log2-idx64-huge', 'linear-gaps', 'linear-strip']) {
  test(`buckets: ${name} rows as data match the printed rows`, () => {
    const { c, slots, opts } = load(name);
    const log2 = c.fn === 'formatLog2Histogram';
    const buckets = log2 ? log2Buckets(slots, opts) : linearBuckets(slots, opts);
    const asText = buckets.map((b) => (log2 ? [b.low, b.high, b.count] : [b.low, b.count]).map(String));
    assert.deepEqual(asText, printedRows(expected(name)));
  });
}

test('buckets: fields are numbers when safe integers and bigints beyond 2^53', () => {
  const slots = new Array<Count>(65).fill(0);
  slots[2] = 7n;
  slots[64] = 2n ** 60n;
  const rows = log2Buckets(slots, { stripLeadingZero: true });
  assert.deepEqual(rows[0], { low: 2, high: 3, count: 7 });
  assert.deepEqual(rows.at(-1), { low: 2n ** 63n, high: 2n ** 64n - 1n, count: 2n ** 60n });
});

test('inputs: number arrays, bigint arrays and BigUint64Array print the same', () => {
  const nums = [0, 3, 10, 0, 1];
  const want = formatLog2Histogram(nums, 'usecs');
  assert.equal(formatLog2Histogram(nums.map(BigInt), 'usecs'), want);
  assert.equal(formatLog2Histogram(BigUint64Array.from(nums.map(BigInt)), 'usecs'), want);
});

test('fixtures: every case bcc generated is checked above', () => {
  assert.deepEqual(Object.keys(cases).filter((n) => !used.has(n)), []);
});
