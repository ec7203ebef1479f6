// Where the toolkit's files are, whether it runs from a checkout (lib/*.ts through tsx) or from
// the installed package (dist/*.js): both have tools/<tool>/<tool>.bpf.c and bpf/include/ at the
// package root.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'bpf', 'include')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the bpfkit package root (no bpf/include above this file)');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
export const TOOLS_DIR = path.join(PACKAGE_ROOT, 'tools');
/** The C headers the tools share (bpf/include/bpfkit/*.h). */
export const BPF_INCLUDE_DIR = path.join(PACKAGE_ROOT, 'bpf', 'include');
