// The registry (tools/index.ts) is the one list of commands: everything else that names the tools
// is made from it or must agree with it, and this test says where they disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REGISTRY, TOOL_NAMES } from '../../tools/index.ts';
import { TOOL_NAMES as BENCHED } from '../bench/lib/tracers.ts';
import { DEFAULT_TESTS } from '../vm/kernels.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(REPO, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; files: string[] };

test('every folder under tools/ is a registered command, and every command has its folder', () => {
  const folders = fs.readdirSync(path.join(REPO, 'tools'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.deepEqual([...folders].sort(), REGISTRY.map((t) => t.name).sort());
});

for (const tool of REGISTRY) {
  test(`${tool.name}: its home holds the entry, options, notes${tool.agent ? '' : ', C program and example file'}; tools/${tool.name}.ts links to the entry`, async () => {
    const home = path.join(REPO, 'tools', tool.name);
    const entry = path.join(home, `${tool.name}.ts`);
    assert.ok(fs.statSync(entry).mode & 0o100, `${entry} is not executable`);
    assert.match(fs.readFileSync(entry, 'utf8'), /^#!\/bin\/sh\n\/\/ 2>\/dev\/null; unset NODE_EXTRA_CA_CERTS; exec node --import "\$\(dirname "\$\(readlink -f "\$0"\)"\)\/\.\.\/\.\.\/node_modules\/tsx\/dist\/loader\.mjs" "\$0" "\$@"\n/);
    assert.equal(fs.readlinkSync(path.join(REPO, 'tools', `${tool.name}.ts`)), `${tool.name}/${tool.name}.ts`);
    assert.ok(fs.existsSync(path.join(home, 'README.md')), `tools/${tool.name}/README.md (the tool's notes) is missing`);
    if (!tool.agent) {
      assert.ok(fs.existsSync(path.join(home, `${tool.name}.bpf.c`)), `tools/${tool.name}/${tool.name}.bpf.c is missing`);
      assert.ok(fs.existsSync(path.join(home, `${tool.name}_example.txt`)), `tools/${tool.name}/${tool.name}_example.txt is missing`);
      const conventions = `test/kernel/conventions/${tool.name}.ts`;
      assert.ok(fs.existsSync(path.join(REPO, conventions)), `${conventions} (its part of the conventions test) is missing`);
    }
    const { spec } = await import(`../../tools/${tool.name}/options.ts`);
    assert.equal(spec.name, tool.name);
    assert.equal(spec.description, tool.summary, 'the spec takes its description from the registry (summaryOf)');
  });

  test(`${tool.name}: its entry's header is at most 15 lines before the code`, () => {
    const lines = read(`tools/${tool.name}/${tool.name}.ts`).split('\n').slice(2);
    const header = lines.findIndex((l) => !l.startsWith('//'));
    assert.ok(header <= 15, `the header of tools/${tool.name}/${tool.name}.ts has ${header} lines; the long story goes to its README.md`);
  });
}

test("package.json's bin has bpfkit and every tool, at its compiled entry", () => {
  const expected: Record<string, string> = { bpfkit: 'dist/bin/bpfkit.js' };
  for (const name of TOOL_NAMES) expected[name] = `dist/tools/${name}/${name}.js`;
  assert.deepEqual(pkg.bin, expected);
});

test('the package ships every C program, example file and tool notes (by pattern)', () => {
  for (const pattern of ['tools/*/*.bpf.c', 'tools/*/*_example.txt', 'tools/*/README.md', 'bpf/include']) {
    assert.ok(pkg.files.includes(pattern), `package.json files lacks ${pattern}`);
  }
});

test('the exporter can load exactly the tools the registry marks exporter, each through its exporterMetrics', async () => {
  const { EXPORTABLE } = await import('../../tools/exporter/options.ts');
  const marked = REGISTRY.filter((t) => t.exporter).map((t) => t.name);
  assert.deepEqual(EXPORTABLE, marked);
  for (const name of marked) {
    const source = read(`tools/${name}/metrics.ts`);
    assert.match(source, /export (async )?function exporterMetrics\(/, `tools/${name}/metrics.ts has no exporterMetrics`);
    assert.doesNotMatch(source, /^\s+[A-Z][A-Z0-9_]+: /m, `tools/${name}/metrics.ts spells #defines itself; they come from the tool's configuration function`);
  }
  // The deployment files run the exporter with tools it can load.
  for (const file of ['deploy/bpfkit-exporter.service', 'deploy/daemonset.yaml']) {
    const list = read(file).match(/--tools"?,? "?([a-z,]+)/)?.[1]?.split(',') ?? [];
    assert.ok(list.length > 0, `${file} names no tools`);
    for (const name of list) assert.ok(marked.includes(name), `${file} names ${name}, which the exporter cannot load`);
  }
});

test("the README's tool table is the registry's", () => {
  const rows = REGISTRY.filter((t) => !t.agent).map((t) => `| [\`${t.name}\`](tools/${t.name}/README.md) | ${t.summary} |`);
  const table = ['| tool | what it shows |', '| --- | --- |', ...rows].join('\n');
  assert.ok(read('README.md').includes(`${table}\n`), `README.md should contain this table:\n${table}`);
});

test('the bench measures every tool', () => {
  assert.deepEqual([...BENCHED].sort(), [...TOOL_NAMES].sort());
});

test('every tool has kernel tests, and they assert and report its attach points (the kernel matrix reads them)', () => {
  for (const tool of TOOL_NAMES) {
    const file = `test/kernel/${tool}.test.ts`;
    assert.ok(fs.existsSync(path.join(REPO, file)), `${file} is missing`);
    // explainedRun reports what it asserts; a tool run another way (pktcount inside a namespace) reports itself.
    assert.match(read(file), /\b(explainedRun|reportChoices)\(t, '[\w-]+'/, `${file} has no --explain attach check (test/helpers/attach.ts explainedRun)`);
  }
  assert.deepEqual(DEFAULT_TESTS.filter((f) => f !== 'test/kernel/conventions.test.ts'), TOOL_NAMES.map((t) => `test/kernel/${t}.test.ts`));
});
