// The program text a tool compiles and --ebpf prints stands alone: the project's own headers are
// inlined (each once, nested ones too), system headers stay includes, and nothing is left for an
// include path to supply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TOOL_NAMES } from '../../tools/index.ts';
import { BPF_INCLUDE_DIR } from '../../lib/run/paths.ts';
import { buildProgram, inlineHeaders } from '../../lib/run/program.ts';

const guarded = (name: string, body: string) => `#ifndef ${name}\n#define ${name}\n${body}\n#endif\n`;

function reader(files: Record<string, string>): (name: string) => string {
  return (name) => {
    if (!(name in files)) throw Object.assign(new Error(`ENOENT: ${name}`), { code: 'ENOENT' });
    return files[name];
  };
}

test('own headers are inlined where first included, with markers, nested ones once; system headers stay', () => {
  const files = {
    'bpfkit/task.h': guarded('T_H', 'int task;'),
    'bpfkit/args.h': guarded('A_H', '#include "bpfkit/task.h"\nint args;'),
  };
  const text = inlineHeaders('#include <uapi/linux/ptrace.h>\n#include "bpfkit/task.h"\n#include "bpfkit/args.h"\nint main_part;\n', 'x.bpf.c', reader(files));
  assert.equal(text, [
    '#include <uapi/linux/ptrace.h>',
    '/* bpfkit/task.h */', '#ifndef T_H', '#define T_H', 'int task;', '#endif', '/* end of bpfkit/task.h */',
    '/* bpfkit/args.h */', '#ifndef A_H', '#define A_H', '/* bpfkit/task.h: inlined above */', 'int args;', '#endif', '/* end of bpfkit/args.h */',
    'int main_part;', '',
  ].join('\n'));
});

test('a header first included under an #if is inlined again at a later #include (its guard decides)', () => {
  const files = {
    'bpfkit/task.h': guarded('T_H', 'int task;'),
    'bpfkit/containers.h': guarded('C_H', '#if FILTER_MNTNS_MAP\n#include "bpfkit/task.h"\n#endif'),
  };
  const text = inlineHeaders('#include "bpfkit/containers.h"\n#include "bpfkit/task.h"\n#include "bpfkit/task.h"\n', 'x.bpf.c', reader(files));
  assert.equal(text.split('\n').filter((l) => l === '/* bpfkit/task.h */').length, 2);
  assert.equal(text.split('\n').filter((l) => l === '/* bpfkit/task.h: inlined above */').length, 1, 'after an unconditional copy, once is enough');

  const underIf = inlineHeaders('#if X\n#include "bpfkit/task.h"\n#endif\n#include "bpfkit/task.h"\n', 'x.bpf.c', reader(files));
  assert.equal(underIf.split('\n').filter((l) => l === '/* bpfkit/task.h */').length, 2);
});

test('a header that includes itself (directly or not) ends', () => {
  const files = { 'bpfkit/a.h': '#include "bpfkit/b.h"\nint a;', 'bpfkit/b.h': '#include "bpfkit/a.h"\nint b;' };
  assert.equal(inlineHeaders('#include "bpfkit/a.h"\n', 'x.bpf.c', reader(files)), [
    '/* bpfkit/a.h */', '/* bpfkit/b.h */', '/* bpfkit/a.h: inlined above */', 'int b;', '/* end of bpfkit/b.h */', 'int a;', '/* end of bpfkit/a.h */', '',
  ].join('\n'));
});

test('a missing header or one that cannot be inlined is an error naming the file', () => {
  assert.throws(() => inlineHeaders('#include "bpfkit/nope.h"\n', 'x.bpf.c', reader({})),
    { message: 'x.bpf.c: #include "bpfkit/nope.h": no such header in bpf/include' });
  assert.throws(() => inlineHeaders('#include "bpfkit/../etc.h"\n', 'x.bpf.c', reader({})),
    { message: 'x.bpf.c: cannot inline #include "bpfkit/../etc.h": headers are bpfkit/<lowercase name>.h' });
});

test('every tool\'s program text keeps no #include of its own headers and needs no include directory', () => {
  const headers = fs.readdirSync(path.join(BPF_INCLUDE_DIR, 'bpfkit')).filter((f) => f.endsWith('.h'));
  for (const tool of TOOL_NAMES) {
    const program = buildProgram({ file: `${tool}.bpf.c`, defines: { FILTER_CGROUP_MAP: 1, FILTER_MNTNS_MAP: 1 } });
    assert.deepEqual(program.includeDirs, [], tool);
    assert.doesNotMatch(program.text, /^\s*#\s*include\s+"/m, tool);
    const source = fs.readFileSync(path.join(import.meta.dirname, '../../tools', tool, `${tool}.bpf.c`), 'utf8');
    for (const header of headers) {
      const name = `bpfkit/${header}`;
      if (source.includes(`#include "${name}"`)) assert.match(program.text, new RegExp(`^/\\* ${name} \\*/$`, 'm'), `${tool}: ${name}`);
    }
    assert.ok(program.text.startsWith('/* configuration */\n#define FILTER_CGROUP_MAP 1\n#define FILTER_MNTNS_MAP 1\n\n'), tool);
  }
});
