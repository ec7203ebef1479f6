import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import vm from 'node:vm';
import { flameGraphSvg, parseFolded, type FlameStack } from '../../lib/output/flamegraph.ts';

// ---- a strict XML reader: node has none, and a flame graph must be well-formed to open at all ----

interface El { name: string; attrs: Record<string, string>; children: Array<El | string>; parent?: El }

const XML_CHAR = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function decode(raw: string, where: string): string {
  if (raw.includes('<')) throw new Error(`raw "<" in ${where}`);
  return raw.replace(/&([^;]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw new Error(`bare "&" in ${where}`);
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (ent in named) return named[ent];
    const num = /^#(x[0-9a-f]+|\d+)$/i.exec(ent);
    if (!num) throw new Error(`unknown entity &${ent}; in ${where}`);
    return String.fromCodePoint(num[1][0] === 'x' ? parseInt(num[1].slice(1), 16) : Number(num[1]));
  });
}

function parseXml(src: string): El {
  if (!XML_CHAR.test(src)) throw new Error('a character XML 1.0 does not allow');
  let i = 0;
  const expect = (re: RegExp, what: string): string => {
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new Error(`expected ${what} at ${i}: ${JSON.stringify(src.slice(i, i + 40))}`);
    i = re.lastIndex;
    return m[1] ?? m[0];
  };
  const element = (parent?: El): El => {
    const name = expect(/<([A-Za-z_][\w.-]*)/y, 'a start tag');
    const el: El = { name, attrs: {}, children: [], parent };
    for (;;) {
      const m = /\s+([A-Za-z_][\w.:-]*)\s*=\s*("[^"]*"|'[^']*')/y;
      m.lastIndex = i;
      const a = m.exec(src);
      if (!a) break;
      if (a[1] in el.attrs) throw new Error(`duplicate attribute ${a[1]}`);
      el.attrs[a[1]] = decode(a[2].slice(1, -1), `attribute ${a[1]}`);
      i = m.lastIndex;
    }
    if (expect(/\s*(\/?>)/y, '> or />') === '/>') return el;
    for (;;) {
      const lt = src.indexOf('<', i);
      if (lt < 0) throw new Error(`<${name}> never closed`);
      if (lt > i) {
        const text = src.slice(i, lt);
        if (text.includes(']]>')) throw new Error(']]> in text');
        el.children.push(decode(text, `<${name}>`));
      }
      i = lt;
      if (src.startsWith('<![CDATA[', i)) {
        const end = src.indexOf(']]>', i);
        if (end < 0) throw new Error('unterminated CDATA');
        el.children.push(src.slice(i + 9, end));
        i = end + 3;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) throw new Error('unterminated comment');
        i = end + 3;
      } else if (src.startsWith('</', i)) {
        const closing = expect(/<\/([A-Za-z_][\w.-]*)\s*>/y, 'an end tag');
        if (closing !== name) throw new Error(`</${closing}> closes <${name}>`);
        return el;
      } else {
        el.children.push(element(el));
      }
    }
  };
  expect(/(<\?xml[^?]*\?>)?\s*/y, 'a prolog');
  const root = element();
  if (src.slice(i).trim() !== '') throw new Error('content after the root element');
  return root;
}

const text = (el: El): string => el.children.map((c) => (typeof c === 'string' ? c : text(c))).join('');
function* walk(el: El): Generator<El> {
  yield el;
  for (const c of el.children) if (typeof c !== 'string') yield* walk(c);
}
const byId = (root: El, id: string): El | undefined => [...walk(root)].find((e) => e.attrs.id === id);
const child = (el: El, name: string): El => el.children.find((c): c is El => typeof c !== 'string' && c.name === name)!;

interface Frame { title: string; name: string; x: number; width: number; y: number; fill: string; label: string }

function framesOf(root: El): Frame[] {
  return [...walk(root)].filter((e) => e.name === 'g' && e.attrs.class === 'f').map((g) => {
    const rect = child(g, 'rect');
    const title = text(child(g, 'title'));
    return {
      title, name: title.slice(0, title.lastIndexOf(' (')), label: text(child(g, 'text')), fill: rect.attrs.fill,
      x: Number(rect.attrs.x), width: Number(rect.attrs.width), y: Number(rect.attrs.y),
    };
  });
}

/** Parsed by a second, independent XML parser too, when the machine has one. */
function externalCheck(svg: string): string | null {
  for (const [cmd, args] of [['xmllint', ['--noout', '-']], ['python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.stdin.buffer)']]] as const) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) continue;
    execFileSync(cmd, [...args], { input: svg, stdio: ['pipe', 'ignore', 'pipe'] });
    return cmd;
  }
  return null;
}

const opts = { title: 'CPU', countName: 'samples' };

test('the XML readers used here refuse what is not well-formed', () => {
  for (const bad of ['<a><b></a>', '<a x="<"/>', '<a>&</a>', '<a>&nbsp;</a>', '<a x="1" x="2"/>', '<a/><b/>', '<a>\u0001</a>', '<a>]]></a>']) {
    assert.throws(() => parseXml(bad), Error, bad);
    if (bad !== '<a>]]></a>') assert.throws(() => externalCheck(bad), Error, bad);
  }
  assert.deepEqual(parseXml('<?xml version="1.0"?>\n<a q=\'&lt;&#65;&#x42;\'><![CDATA[<&>]]></a>'), { name: 'a', attrs: { q: '<AB' }, children: ['<&>'], parent: undefined });
});

const sample: FlameStack[] = [
  { frames: ['burn-cpu', 'main', 'burn_cpu'], value: 90 },
  { frames: ['burn-cpu', 'main', 'report'], value: 6 },
  { frames: ['sh', 'main'], value: 20 },
  { frames: ['burn-cpu', 'main', 'report'], value: 4 },
];

test('every frame has a title with its count and share, equal prefixes merged into one frame', () => {
  const frames = framesOf(parseXml(flameGraphSvg(sample, opts)));
  assert.deepEqual(frames.map((f) => f.title).sort(), [
    'all (120 samples, 100.00%)', 'burn-cpu (100 samples, 83.33%)', 'burn_cpu (90 samples, 75.00%)',
    'main (100 samples, 83.33%)', 'main (20 samples, 16.67%)', 'report (10 samples, 8.33%)', 'sh (20 samples, 16.67%)',
  ]);
  const us = framesOf(parseXml(flameGraphSvg([{ frames: ['db', 'fsync'], value: 1234567 }, { frames: ['db'], value: 0.5 }], { ...opts, countName: 'us' })));
  assert.deepEqual(us.map((f) => f.title), ['all (1,234,567.50 us, 100.00%)', 'db (1,234,567.50 us, 100.00%)', 'fsync (1,234,567 us, 100.00%)']);
});

/** Many stacks from a fixed seed: deep, wide, with shared prefixes. */
function manyStacks(): FlameStack[] {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  return Array.from({ length: 300 }, () => ({
    frames: Array.from({ length: 1 + rnd(12) }, (_, d) => `fn_${d}_${rnd(d < 2 ? 3 : 6)}`),
    value: 1 + rnd(500),
  }));
}

test('widths add up: the root is the whole width, children fit in their parent, siblings in name order', () => {
  const stacks = manyStacks();
  const total = stacks.reduce((s, x) => s + x.value, 0);
  const frames = framesOf(parseXml(flameGraphSvg(stacks, opts)));
  const root = frames.find((f) => f.name === 'all')!;
  assert.deepEqual([root.x, root.width, root.title], [10, 1180, `all (${total.toLocaleString('en-US')} samples, 100.00%)`]);
  const eps = 1e-9;
  for (const parent of frames) {
    const kids = frames.filter((f) => f.y === parent.y - 16 && f.x >= parent.x - eps && f.x + f.width <= parent.x + parent.width + eps);
    assert.ok(kids.reduce((s, k) => s + k.width, 0) <= parent.width + eps, `children of ${parent.title} overflow`);
    const names = [...kids].sort((a, b) => a.x - b.x).map((k) => k.name);
    assert.deepEqual(names, [...names].sort(), `children of ${parent.title} out of order`);
    const value = Number(/\(([\d,]+) samples/.exec(parent.title)![1].replaceAll(',', ''));
    assert.ok(Math.abs(parent.width - (1180 * value) / total) <= 0.011, `${parent.title} is ${parent.width} wide`);
  }
  for (const f of frames.filter((f) => f !== root)) {
    assert.equal(frames.filter((p) => p.y === f.y + 16 && p.x <= f.x + eps && f.x + f.width <= p.x + p.width + eps).length, 1, `${f.title} has no parent`);
  }
});

test('the same stacks give the same bytes, whatever their order', () => {
  const stacks = manyStacks();
  const svg = flameGraphSvg(stacks, opts);
  assert.equal(flameGraphSvg(stacks, opts), svg);
  assert.equal(flameGraphSvg([...stacks].reverse(), opts), svg);
});

test('names are escaped: markup, quotes, ampersands, "]]>" and control bytes cannot break the file', () => {
  const nasty = `<b a="1">&amp;'x]]>`;
  const svg = flameGraphSvg([{ frames: [nasty, 'ok\u0001'], value: 3 }], { title: 'a <t> & "q"', countName: 's&s', subtitle: "it's" });
  assert.ok(!svg.includes('<b a'));
  const root = parseXml(svg);
  assert.deepEqual(framesOf(root).map((f) => f.title), ['all (3 s&s, 100.00%)', `${nasty} (3 s&s, 100.00%)`, 'ok\ufffd (3 s&s, 100.00%)']);
  assert.equal(framesOf(root)[1].label, nasty);
  assert.equal(text(byId(root, 'title')!), 'a <t> & "q"');
  assert.equal(text(byId(root, 'subtitle')!), "it's");
});

test('a second XML parser accepts the output', (t) => {
  const svg = flameGraphSvg([...manyStacks(), { frames: ['<&>"\'', ']]>'], value: 9 }], opts);
  const checker = externalCheck(svg);
  if (!checker) t.skip('neither xmllint nor python3 is installed');
  else t.diagnostic(`checked by ${checker}`);
});

const rgb = (fill: string): number[] => /^rgb\((\d+),(\d+),(\d+)\)$/.exec(fill)!.slice(1).map(Number);

test('user frames are warm, kernel frames (after "-" or "_[k]") blue, placeholders grey; a name keeps its colour', () => {
  const frames = framesOf(parseXml(flameGraphSvg([
    { frames: ['app', 'main', '-', 'do_syscall_64'], value: 5 },
    { frames: ['app', 'main', 'page_fault_[k]'], value: 5 },
    { frames: ['app', '[unknown]', 'main'], value: 5 },
  ], opts)));
  const fill = (name: string): number[][] => frames.filter((f) => f.name === name).map((f) => rgb(f.fill));
  for (const [r, , b] of [...fill('main'), ...fill('app')]) assert.ok(r > b, 'user frame not warm');
  for (const [r, , b] of [...fill('do_syscall_64'), ...fill('page_fault_[k]')]) assert.ok(b > r, 'kernel frame not blue');
  for (const [r, g, b] of [...fill('-'), ...fill('[unknown]')]) assert.ok(r === g && g === b, 'placeholder not grey');
  assert.equal(new Set(fill('main').map(String)).size, 1);
  // The same name in another graph, at another place, keeps its colour.
  const other = framesOf(parseXml(flameGraphSvg([{ frames: ['x', 'y', 'main'], value: 1 }], opts)));
  assert.equal(other.find((f) => f.name === 'main')!.fill, frames.find((f) => f.name === 'main')!.fill);
});

test('frames narrower than the minimum are left out and the note says how many; long names are shortened', () => {
  const long = 'a_very_long_function_name_that_cannot_fit_in_a_narrow_frame';
  const root = parseXml(flameGraphSvg([
    { frames: ['big'], value: 1_000_000 }, { frames: ['tiny', 'tinier'], value: 1 }, { frames: ['mid', long], value: 50_000 },
  ], opts));
  const frames = framesOf(root);
  assert.deepEqual(frames.map((f) => f.name), ['all', 'big', 'mid', long]);
  assert.match(text(byId(root, 'note')!), /Frames narrower than 0\.1 px are not drawn \(2 frames left out\)/);
  const shortened = frames.find((f) => f.name === long)!;
  assert.equal(shortened.label, 'a_ver..');
  assert.ok(6 + shortened.label.length * 12 * 0.59 <= shortened.width);
  assert.equal(frames.find((f) => f.name === 'big')!.label, 'big');
  assert.match(text(byId(parseXml(flameGraphSvg(sample, opts)), 'note')!), /not drawn \(none here\)/);
});

test('no samples: a valid SVG that says so', () => {
  for (const stacks of [[], [{ frames: ['idle'], value: 0 }]]) {
    const root = parseXml(flameGraphSvg(stacks, opts));
    assert.equal(root.name, 'svg');
    assert.equal(framesOf(root).length, 0);
    assert.equal(text(byId(root, 'empty')!), 'No samples: nothing to draw');
  }
});

test('bad values are refused', () => {
  assert.throws(() => flameGraphSvg([{ frames: ['a'], value: -1 }], opts), /bad value -1 for a/);
  assert.throws(() => flameGraphSvg([{ frames: ['a'], value: NaN }], opts), /bad value NaN/);
});

test('folded text round-trips, frames may hold spaces, blank lines and CRLF are fine', () => {
  const stacks: FlameStack[] = [
    { frames: ['node', 'LazyCompile:*render /srv/app.js:12', 'operator new(unsigned long)'], value: 12 },
    { frames: ['sh'], value: 1 },
    { frames: ['a', '-', 'b_[k]'], value: 2.5 },
  ];
  const folded = stacks.map((s) => `${s.frames.join(';')} ${s.value}`).join('\n');
  assert.deepEqual(parseFolded(folded), stacks);
  assert.deepEqual(parseFolded(`\n${folded.replaceAll('\n', '\r\n\r\n')}\n\n`), stacks);
  assert.deepEqual(parseFolded(''), []);
  assert.equal(flameGraphSvg(parseFolded(folded), opts), flameGraphSvg(stacks, opts));
});

test('malformed folded lines are refused with the line number', () => {
  assert.throws(() => parseFolded('a;b 1\nno_count'), { message: 'folded stacks, line 2: expected "frame;frame;... count" in "no_count"' });
  assert.throws(() => parseFolded('a;b x1'), { message: 'folded stacks, line 1: the count "x1" is not a number in "a;b x1"' });
  assert.throws(() => parseFolded('\n\na;;b 3'), /line 3: empty frame/);
  assert.throws(() => parseFolded('a;b -3'), /the count "-3" is not a number/);
});

// ---- the embedded script, run against a small DOM built from the SVG ----

interface Node { el: El; attrs: Map<string, string>; kids: Node[]; parent?: Node; listeners: Map<string, Array<(e: unknown) => void>>; own?: string }

function fakeDom(root: El) {
  const wrap = (el: El, parent?: Node): Node => {
    const n: Node = { el, attrs: new Map(Object.entries(el.attrs)), kids: [], parent, listeners: new Map() };
    n.kids = el.children.filter((c): c is El => typeof c !== 'string').map((c) => wrap(c, n));
    n.own = el.children.every((c) => typeof c === 'string') ? text(el) : undefined;
    return n;
  };
  const top = wrap(root);
  const all = (n: Node): Node[] => [n, ...n.kids.flatMap(all)];
  const classes = (n: Node): string[] => (n.attrs.get('class') ?? '').split(' ').filter(Boolean);
  const matches = (n: Node, sel: string): boolean => {
    const [tag, cls] = sel.split('.');
    return n.el.name === tag && (!cls || classes(n).includes(cls));
  };
  const views = new Map<Node, object>();
  const view = (n: Node): any => {
    if (views.has(n)) return views.get(n);
    const v = {
      node: n,
      getAttribute: (k: string) => n.attrs.get(k) ?? null,
      setAttribute: (k: string, val: string) => n.attrs.set(k, String(val)),
      querySelector: (s: string) => { const m = all(n).slice(1).find((c) => matches(c, s)); return m ? view(m) : null; },
      querySelectorAll: (s: string) => all(n).slice(1).filter((c) => matches(c, s)).map(view),
      closest: (s: string) => { for (let c: Node | undefined = n; c; c = c.parent) if (matches(c, s)) return view(c); return null; },
      addEventListener: (type: string, fn: (e: unknown) => void) => n.listeners.set(type, [...(n.listeners.get(type) ?? []), fn]),
      get textContent() { return n.own ?? ''; },
      set textContent(s: string) { n.own = s; },
      classList: {
        add: (c: string) => n.attrs.set('class', [...new Set([...classes(n), c])].join(' ')),
        remove: (c: string) => n.attrs.set('class', classes(n).filter((x) => x !== c).join(' ')),
        toggle: (c: string, on: boolean) => n.attrs.set('class', [...classes(n).filter((x) => x !== c), ...(on ? [c] : [])].join(' ')),
      },
    };
    views.set(n, v);
    return v;
  };
  const byId = (id: string) => all(top).find((n) => n.attrs.get('id') === id)!;
  const windowListeners: Array<(e: unknown) => void> = [];
  let answer = '';
  const document = { documentElement: view(top), querySelectorAll: (s: string) => view(top).querySelectorAll(s), getElementById: (id: string) => view(byId(id)) };
  const window = { prompt: () => answer, addEventListener: (_: string, fn: (e: unknown) => void) => windowListeners.push(fn) };
  return {
    document, window, byId,
    click: (target: Node) => { for (let c: Node | undefined = target; c; c = c.parent) for (const fn of c.listeners.get('click') ?? []) fn({ target: view(target) }); },
    key: (key: string, ctrlKey = false) => windowListeners.forEach((fn) => fn({ key, ctrlKey, preventDefault() {} })),
    setAnswer: (a: string) => { answer = a; },
    frames: () => all(top).filter((n) => matches(n, 'g.f')).map((g) => {
      const rect = g.kids.find((k) => k.el.name === 'rect')!;
      return { g, rect, title: text(g.kids.find((k) => k.el.name === 'title')!.el), x: rect.attrs.get('x'), width: rect.attrs.get('width'), fill: rect.attrs.get('fill'),
        hidden: classes(g).includes('hidden'), ancestor: classes(g).includes('ancestor'), label: g.kids.find((k) => k.el.name === 'text')!.own };
    }),
  };
}

test('the embedded script zooms into a clicked frame and back, and searches with the matched share', () => {
  const root = parseXml(flameGraphSvg(sample, opts));
  const dom = fakeDom(root);
  const script = text([...walk(root)].find((e) => e.name === 'script')!);
  vm.runInNewContext(script, { document: dom.document, window: dom.window });
  assert.equal(dom.byId('search').attrs.get('class'), 'button');
  const before = dom.frames();

  // sh;main is 20 of 120 samples: zoomed, it takes the whole width, its callers fade, the rest hides.
  const sh = before.find((f) => f.title.startsWith('sh ('))!;
  dom.click(sh.rect);
  const zoomed = Object.fromEntries(dom.frames().map((f) => [f.title.replace(/ samples.*/, ''), f]));
  assert.deepEqual([zoomed['sh (20'].x, zoomed['sh (20'].width, zoomed['sh (20'].hidden, zoomed['sh (20'].ancestor, zoomed['sh (20'].label], ['10', '1180', false, false, 'sh']);
  assert.deepEqual([zoomed['main (20'].width, zoomed['main (20'].hidden, zoomed['main (20'].label], ['1180', false, 'main']);
  assert.deepEqual([zoomed['all (120'].width, zoomed['all (120'].ancestor, zoomed['all (120'].hidden], ['1180', true, false]);
  assert.deepEqual(['burn-cpu (100', 'main (100', 'burn_cpu (90', 'report (10'].map((t) => zoomed[t].hidden), [true, true, true, true]);
  assert.equal(dom.byId('unzoom').attrs.get('class'), 'button');

  dom.key('Escape');
  assert.deepEqual(dom.frames().map((f) => [f.x, f.width, f.hidden, f.ancestor, f.label]), before.map((f) => [f.x, f.width, false, false, f.label]));
  assert.equal(dom.byId('unzoom').attrs.get('class'), 'button hidden');

  // "main" matches twice (100 + 20 samples) and "^burn" nests burn_cpu in burn-cpu: counted once.
  dom.setAnswer('main');
  dom.key('f', true);
  assert.equal(dom.byId('matched').own, 'Matched: 100.00%');
  assert.deepEqual(dom.frames().filter((f) => f.fill === 'rgb(230,0,230)').map((f) => f.title), ['main (100 samples, 83.33%)', 'main (20 samples, 16.67%)']);
  dom.setAnswer('^burn');
  dom.key('/');
  assert.equal(dom.byId('matched').own, 'Matched: 83.33%');
  dom.click(dom.byId('search')); // now "Reset Search"
  assert.deepEqual(dom.frames().map((f) => f.fill), before.map((f) => f.fill));
  assert.equal(dom.byId('search').own, 'Search');
});
