// The man pages: one per command of the registry and bpfkit.8, made from the specs that build
// --help, rendered by man(1) and groff without a warning, listed in package.json's `man`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REGISTRY, type ToolInfo } from '../../tools/index.ts';
import { generateManPages } from '../../scripts/gen-man.ts';
import { helpText, type ToolSpec } from '../../lib/run/cli.ts';
import { literalBlock, markdownParagraph, roffEscape } from '../../lib/output/man.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { man: string[]; description: string };
const PAGE = (t: ToolInfo) => (t.agent ? `bpfkit-${t.name}` : t.name);
let dir = '';

before(async () => {
  for (const command of ['man', 'groff']) {
    if (spawnSync(command, ['--version']).error) assert.fail(`${command} is missing: sudo make test-deps installs man-db and groff-base`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-man-'));
  await generateManPages(dir);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** man -l as a user reads it into a pipe, 80 columns; its stderr carries groff's warnings. */
function man(file: string): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, MANWIDTH: '80', LC_ALL: 'C.UTF-8' };
  delete env.MAN_KEEP_FORMATTING;
  return spawnSync('man', ['--warnings', '-l', '-E', 'UTF-8', file], { env, encoding: 'utf8' });
}

/** The lines of a rendered section, from its heading to the next one. */
function sectionOf(rendered: string, heading: string): string[] {
  const lines = rendered.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `no ${heading} section`);
  const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
  return lines.slice(start + 1, end);
}

function expandTabs(line: string): string {
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

const words = (text: string | string[]) => (Array.isArray(text) ? text.join(' ') : text).replace(/\s+/g, ' ').trim();

/** --help's rows as the man page shows them: `-u USER, --uid USER` becomes `-u, --uid USER`. */
function helpRows(spec: ToolSpec): string[] {
  const rows: string[] = [];
  let inList = false;
  for (const line of helpText(spec).split('\n')) {
    if (line === 'options:' || line === 'positional arguments:') { inList = true; continue; }
    if (!inList) continue;
    if (line === '') { inList = false; continue; }
    if (/^ {24}\S/.test(line)) { rows[rows.length - 1] += ` ${line.trim()}`; continue; }
    const [, left, help = ''] = /^ {2}(\S(?:\S| (?! ))*) *(.*)$/.exec(line)!;
    const parts = left.split(', ');
    const tag = parts.map((p, i) => (i < parts.length - 1 ? p.split(' ')[0] : p)).join(', ');
    rows.push(`${tag} ${help}`.trim());
  }
  return rows;
}

const specs = new Map<string, ToolSpec>();
async function specOf(name: string): Promise<ToolSpec> {
  if (!specs.has(name)) specs.set(name, (await import(`../../tools/${name}/options.ts`)).spec as ToolSpec);
  return specs.get(name)!;
}

test("package.json's man installs bpfkit.8 and one page per registry command, which the generator writes", () => {
  assert.deepEqual(pkg.man, ['bpfkit', ...REGISTRY.map(PAGE)].map((p) => `./dist/man/${p}.8`));
  assert.deepEqual(fs.readdirSync(dir).sort(), pkg.man.map((m) => path.basename(m)).sort());
});

for (const page of ['bpfkit', ...REGISTRY.map(PAGE)]) {
  test(`${page}.8 renders with man -l and with groff -ww without a warning, and is plain ASCII`, () => {
    const file = path.join(dir, `${page}.8`);
    const r = man(file);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^${page}\\(8\\) +System Manager's Manual +${page}\\(8\\)\n`));
    const groff = spawnSync('groff', ['-ww', '-man', '-Tutf8', '-z', file], { encoding: 'utf8' });
    assert.equal(groff.stderr, '');
    assert.equal(groff.status, 0);
    assert.match(fs.readFileSync(file, 'utf8'), /^[\x20-\x7e\n]*$/);
  });
}

for (const tool of REGISTRY) {
  const page = PAGE(tool);

  test(`${page}.8 has bcc's sections in bcc's order, NAME "${page} - summary" and SYNOPSIS from --help's usage line`, async () => {
    const spec = await specOf(tool.name);
    const rendered = man(path.join(dir, `${page}.8`)).stdout;
    const headings = rendered.split('\n').filter((l) => /^[A-Z]/.test(l));
    assert.deepEqual(headings, ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXAMPLES', 'EXIT STATUS', 'SEE ALSO']);
    assert.equal(words(sectionOf(rendered, 'NAME')), `${page} - ${tool.summary}`);
    const usage = helpText(spec).split('\n')[0].replace(/^usage: \S+/, tool.agent ? `bpfkit ${tool.name}` : tool.name);
    assert.equal(words(sectionOf(rendered, 'SYNOPSIS')), usage);
    assert.ok(words(sectionOf(rendered, 'DESCRIPTION')).startsWith(`${tool.summary}.`));
  });

  test(`${page}.8 OPTIONS has every row of ${tool.name} --help, common options too, with its help text, in order`, async () => {
    const spec = await specOf(tool.name);
    const rendered = man(path.join(dir, `${page}.8`)).stdout;
    assert.equal(words(sectionOf(rendered, 'OPTIONS')), helpRows(spec).join(' '));
    const flags = ['--help', '--json', '--ebpf', '--explain'].filter((f) => !spec.without?.includes(f.slice(2)));
    for (const flag of flags) assert.ok(helpRows(spec).join(' ').includes(flag));
  });

  test(`${page}.8 EXAMPLES has the spec's examples, then ${tool.name}_example.txt line for line${tool.agent ? ' (when there is one)' : ''}`, async () => {
    const spec = await specOf(tool.name);
    const rendered = man(path.join(dir, `${page}.8`)).stdout;
    const section = sectionOf(rendered, 'EXAMPLES');
    const exampleFile = path.join(REPO, 'tools', tool.name, `${tool.name}_example.txt`);
    const sub = section.indexOf(`   ${tool.name}_example.txt`);
    assert.equal(sub >= 0, fs.existsSync(exampleFile));
    const expected = spec.examples.map(([cmd, meaning]) => `${meaning.charAt(0).toUpperCase()}${meaning.slice(1)}: # ${cmd}`);
    assert.equal(words(sub >= 0 ? section.slice(0, sub) : section), words(expected));
    if (sub < 0) return;
    const lines = fs.readFileSync(exampleFile, 'utf8').replace(/\n+$/, '').split('\n')
      .map((l) => expandTabs(l).trimEnd())
      .map((l) => (l ? `       ${l}` : ''))
      // man squeezes runs of blank lines into one, as cat -s does.
      .filter((l, i, all) => l !== '' || all[i - 1] !== '');
    const shown = section.slice(sub).map((l) => l.trimEnd());
    const at = shown.findIndex((_, i) => lines.every((l, j) => shown[i + j] === l));
    assert.ok(at > 0, `${tool.name}_example.txt does not appear line for line in ${page}.8`);
  });

  test(`${page}.8 SEE ALSO names bpfkit(8)${tool.bcc ? ` and bcc's ${tool.bcc}-bpfcc(8)` : ''}`, () => {
    const rendered = man(path.join(dir, `${page}.8`)).stdout;
    assert.equal(words(sectionOf(rendered, 'SEE ALSO')), ['bpfkit(8)', ...(tool.bcc ? [`${tool.bcc}-bpfcc(8)`] : [])].join(', '));
  });
}

test('bpfkit.8 lists every command with its page, and every page in SEE ALSO', () => {
  const rendered = man(path.join(dir, 'bpfkit.8')).stdout;
  assert.equal(words(sectionOf(rendered, 'NAME')), `bpfkit - ${pkg.description}`);
  assert.equal(words(sectionOf(rendered, 'COMMANDS')), REGISTRY.map((t) => `${t.name} ${t.summary}; see ${PAGE(t)}(8).`).join(' '));
  assert.equal(words(sectionOf(rendered, 'SEE ALSO')), REGISTRY.map((t) => `${PAGE(t)}(8)`).join(', '));
  for (const flag of ['--list', '--json', '--explain', '--ebpf', '--chart']) assert.ok(words(sectionOf(rendered, 'OPTIONS')).includes(flag), flag);
});

test('roff escaping: backslashes, hyphens, quotes and non-ASCII become escapes; a leading . or \' cannot start a request', () => {
  assert.equal(roffEscape("a\\b --c 'd' `e` ^~ \u00b5s \u2500 \x1b"), "a\\eb \\-\\-c \\(aqd\\(aq \\(gae\\(ga \\(ha\\(ti \\[u00B5]s \\[u2500] ^[");
  assert.deepEqual(literalBlock(".x\n'y\n\tz \n\n"), ['.nf', '\\&.x', '\\(aqy', '        z', '.fi']);
  assert.equal(markdownParagraph('Uses `-x`,\n**bold** and [a `link`](x.md).'), 'Uses \\fB\\-x\\fR, \\fBbold\\fR and a \\fBlink\\fR.');
});

test('a literal block comes back from man exactly as written: backslashes, leading dots and quotes, tabs, UTF-8', () => {
  const text = ".leading dot\n'leading quote\nback\\slash \\n \\fB\n\tone tab\n--flag -x 'q' `b` ^~\n\u00fcn\u00efc\u00f8d\u00e9 \u2500\u256e \u00b5s\n";
  const file = path.join(dir, 'literal.7');
  fs.writeFileSync(file, ['.TH literal 7 "" test', '.SH TEXT', ...literalBlock(text), ''].join('\n'));
  try {
    const r = man(file);
    assert.equal(r.stderr, '');
    assert.deepEqual(sectionOf(r.stdout, 'TEXT').map((l) => l.trimEnd()).filter(Boolean),
      ['.leading dot', "'leading quote", 'back\\slash \\n \\fB', '        one tab', "--flag -x 'q' `b` ^~", '\u00fcn\u00efc\u00f8d\u00e9 \u2500\u256e \u00b5s'].map((l) => `       ${l}`));
  } finally {
    fs.rmSync(file);
  }
});

test('gen-man.ts alone: --out DIR writes the pages; a bad argument is one line on stderr and exit 2', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/gen-man.ts'), ...args], { cwd: REPO, encoding: 'utf8' });
  const out = path.join(dir, 'alone');
  const ok = run('--out', out);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), pkg.man.map((m) => path.basename(m)).sort());
  for (const args of [['--out'], ['--bogus']]) {
    const r = run(...args);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^gen-man: [^\n]+\n$/);
  }
});
