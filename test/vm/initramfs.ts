// The guest's initramfs: a static busybox, init.sh as /init, and the kernel's own modules for a
// 9p root under an overlay (virtio PCI transport, 9p, overlayfs), each with its dependencies
// first. Built once per kernel and rebuilt only when one of its inputs changes.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readText } from './text-file.ts';

/** What the root needs; a module the kernel has built in is simply not loaded. */
const ROOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
const BUSYBOX = '/bin/busybox';
const INIT = path.join(import.meta.dirname, 'init.sh');

export function buildInitramfs(modulesDir: string, out: string, log: (line: string) => void): string {
  const modules = loadOrder(modulesDir, ROOT_MODULES);
  const inputs = crypto.createHash('sha256')
    .update(fs.readFileSync(INIT)).update(fs.readFileSync(BUSYBOX)).update(modules.join('\n')).digest('hex');
  const stamp = `${out}.inputs`;
  if (fs.existsSync(out) && readText(stamp) === inputs) return out;

  if (!isStatic(BUSYBOX)) throw new Error(`${BUSYBOX} is not statically linked: install busybox-static (make vm-deps)`);
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-initramfs-'));
  try {
    for (const dir of ['bin', 'dev', 'proc', 'sys', 'modules']) fs.mkdirSync(path.join(stage, dir));
    fs.copyFileSync(BUSYBOX, path.join(stage, 'bin/busybox'));
    fs.copyFileSync(INIT, path.join(stage, 'init'));
    fs.chmodSync(path.join(stage, 'init'), 0o755);
    modules.forEach((relative, i) => {
      const name = path.basename(relative).replace(/\.ko(\.\w+)?$/, '');
      fs.writeFileSync(path.join(stage, 'modules', `${String(i).padStart(2, '0')}-${name}.ko`), readModule(path.join(modulesDir, relative)));
    });
    // An uncompressed archive: under emulation the kernel would spend seconds inflating it.
    const files = execFileSync('find', ['.', '-mindepth', '1'], { cwd: stage, encoding: 'utf8' });
    const archive = execFileSync('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], { cwd: stage, input: files, maxBuffer: 1 << 28 });
    fs.writeFileSync(out, archive);
    fs.writeFileSync(stamp, inputs);
    log(`initramfs: busybox + ${modules.length} modules (${modules.map((m) => path.basename(m).replace(/\.ko.*/, '')).join(' ')}), ${(archive.length / 1048576).toFixed(1)} MB`);
    return out;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** Module files (relative to the modules directory) in an order insmod can load them. */
export function loadOrder(modulesDir: string, wanted: string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [file, rest] = line.split(':');
    if (file) deps.set(file, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...deps.keys()].map((file) => [moduleName(file), file]));
  const builtin = new Set(readText(path.join(modulesDir, 'modules.builtin')).split('\n').filter(Boolean).map(moduleName));
  const order: string[] = [];
  const visit = (file: string) => {
    if (order.includes(file)) return;
    // modules.dep lists every module a module needs, transitively; the last ones are loaded first.
    for (const dep of [...(deps.get(file) ?? [])].reverse()) visit(dep);
    order.push(file);
  };
  for (const name of wanted) {
    const file = byName.get(name);
    if (file) visit(file);
    else if (!builtin.has(name)) throw new Error(`the kernel has no module ${name} (and does not build it in)`);
  }
  return order;
}

function moduleName(file: string): string {
  return path.basename(file).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
}

/** busybox's insmod takes plain ELF: compressed modules are unpacked here. */
function readModule(file: string): Buffer {
  if (file.endsWith('.ko.xz')) return execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 });
  if (file.endsWith('.ko.zst')) return execFileSync('zstd', ['-dcq', file], { maxBuffer: 1 << 28 });
  if (file.endsWith('.ko.gz')) return execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 28 });
  return fs.readFileSync(file);
}

function isStatic(file: string): boolean {
  // A dynamically linked ELF names its interpreter (PT_INTERP) in the first page.
  return !fs.readFileSync(file).subarray(0, 4096).includes('/lib64/ld-linux');
}
