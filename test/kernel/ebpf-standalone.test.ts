// What `<tool> --ebpf` prints stands alone, as students use it: no #include of the project's own
// headers is left, and the text compiles with no include directory, through our binding and
// through bcc's own Python module (`BPF(text=...)`) when it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BPF, findKernelHeaders } from 'bcc-node-bindings';
import { TOOL_NAMES } from '../../tools/index.ts';
import { needsBpf } from '../helpers/kernel.ts';
import { runToolToEnd } from '../helpers/tool.ts';

// Debian's python3-bpfcc installs into the system Python, which a pyenv or venv python3 on PATH
// does not see.
const BCC_PYTHON = ['python3', '/usr/bin/python3'].find((python) => spawnSync(python, ['-c', 'import bcc'], { stdio: 'ignore' }).status === 0);

// Compiles and loads the text from stdin (bcc attaches TRACEPOINT_PROBE functions by their name
// as it loads them), then detaches and unloads everything.
const PYTHON_LOAD = 'import sys\nfrom bcc import BPF\nb = BPF(text=sys.stdin.read())\nb.cleanup()\n';

for (const tool of TOOL_NAMES) {
  test(`${tool} --ebpf prints a program that compiles alone, in our binding and in bcc's Python`, async (t) => {
    if (!needsBpf(t)) return;
    const { code, stdout: text, stderr } = await runToolToEnd(tool, ['--ebpf']);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(text, /#\s*include\s+"bpfkit\//);
    assert.doesNotMatch(text, /^\s*#\s*include\s+"/m, 'only system headers are left as includes');

    const bpf = new BPF({ text, autoAttach: false, cache: false });
    try {
      assert.ok(bpf.functionNames().length > 0);
    } finally {
      bpf.close();
    }

    if (!BCC_PYTHON) {
      t.diagnostic('bcc\'s Python module is not installed (python3-bpfcc): compiled through the binding only');
      return;
    }
    // Kernel headers as the binding uses them: with a custom kernel, the cached closest ones.
    const headers = findKernelHeaders();
    const env = { ...process.env, ...(headers && headers.source !== 'modules' && headers.source !== 'kheaders' ? { BCC_KERNEL_SOURCE: headers.path } : {}) };
    const python = spawnSync(BCC_PYTHON, ['-c', PYTHON_LOAD], { input: text, env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(python.status, 0, `bcc's BPF(text=...) failed:\n${python.stderr.split('\n').filter((l) => /error/i.test(l)).join('\n') || python.stderr}`);
  });
}
