import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDiagnostics, relevantDiagnostics, formatDiagnostics } from '../../lib/bcc-node-bindings/src/diagnostics.ts';

// What clang 14 printed here for a program with one unused variable, compiled against 6.12 headers.
const OUTPUT = `In file included from <built-in>:4:
In file included from /virtual/include/bcc/helpers.h:53:
In file included from include/linux/log2.h:12:
arch/x86/include/asm/ibt.h:77:8: warning: 'nocf_check' attribute ignored; use -fcf-protection to enable the attribute [-Wignored-attributes]
extern __noendbr u64 ibt_save(bool disable);
       ^
arch/x86/include/asm/ibt.h:32:34: note: expanded from macro '__noendbr'
#define __noendbr       __attribute__((nocf_check))
                                       ^
/virtual/main.c:2:24: warning: unused variable 'unused' [-Wunused-variable]
int x(void *ctx) { int unused; return 0; }
                       ^
/virtual/main.c:3:10: error: use of undeclared identifier 'nope'
  return nope;
         ^
2 warnings and 1 error generated.
`;

test('clang output splits into diagnostics with their source lines and notes', () => {
  const all = parseDiagnostics(OUTPUT);
  assert.deepEqual(all.map((d) => [d.file, d.line, d.severity]), [
    ['arch/x86/include/asm/ibt.h', 77, 'warning'],
    ['/virtual/main.c', 2, 'warning'],
    ['/virtual/main.c', 3, 'error'],
  ]);
  assert.match(all[0].text, /note: expanded from macro '__noendbr'/);
  assert.equal(all[2].message, "use of undeclared identifier 'nope'");
  assert.equal(all[2].text.split('\n')[1], '  return nope;');
});

test('warnings from kernel headers are dropped; the program\'s warnings and all errors stay', () => {
  const kept = relevantDiagnostics(parseDiagnostics(OUTPUT));
  assert.deepEqual(kept.map((d) => d.line), [2, 3]);
  assert.doesNotMatch(formatDiagnostics(kept), /ibt\.h|generated/);
});

test('warnings in headers under the program\'s own include directories are kept', () => {
  const out = '/repo/bpf/include/bpfkit/task.h:5:1: warning: something [-Wfoo]\nx\n^\n';
  assert.equal(relevantDiagnostics(parseDiagnostics(out), ['/virtual/main.c', '/repo/bpf/include']).length, 1);
  assert.equal(relevantDiagnostics(parseDiagnostics(out), ['/virtual/main.c', '/repo/bpf/inc']).length, 0);
});
