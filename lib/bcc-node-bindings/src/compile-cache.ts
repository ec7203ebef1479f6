// Getting an artifact for a program: from the on-disk cache when a trustworthy entry exists,
// otherwise by compiling — in a child process by default, so LLVM's memory never enters the tool.
//
// The cache key covers everything that can change the result: the source after configuration,
// cflags, the contents of the include directories, libbcc's version, the kernel release and
// build, the headers used, the number of possible CPUs (perf arrays are sized by it), and the
// tracefs formats of the tracepoints the program names. Entries live in a root-only directory
// (0700), are written atomically, and are re-validated on every read: an entry that is truncated,
// corrupt, foreign-owned, writable by others, or made for another kernel is ignored and rebuilt.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfError, type BpfErrorCode } from './errors.ts';
import { ARTIFACT_FORMAT, validateArtifact, type Artifact } from './artifact.ts';
import { compileInProcess, type CompileRequest } from './compile.ts';
import { CAPTURE_FD_ENV } from './capture.ts';
import { libc } from './ffi/libc.ts';
import { cacheRoot, findKernelHeaders, possibleCpus, tracefsPath } from './kernel.ts';
import { childProcess } from './lazy-builtins.ts';

export type CacheStatus = 'hit' | 'miss' | 'off' | `rejected: ${string}`;

export interface ObtainOptions {
  /** Use the on-disk cache (default true; env BPFKIT_NO_CACHE=1 turns it off). */
  cache?: boolean;
  /** Compile in a child process (default) or in this one. */
  compileIn?: 'child' | 'process';
}

const MAX_ENTRY_BYTES = 32 << 20;

/** $BPFKIT_COMPILE_CACHE_DIR, else <cache root>/compile (/var/cache/bpfkit/compile). */
export function cacheDir(): string {
  return process.env.BPFKIT_COMPILE_CACHE_DIR ?? path.join(cacheRoot(), 'compile');
}

export function obtainArtifact(req: Omit<CompileRequest, 'key'>, opts: ObtainOptions = {}): { artifact: Artifact; status: CacheStatus } {
  const useCache = opts.cache !== false && process.env.BPFKIT_NO_CACHE !== '1' && req.debug === 0;
  const key = cacheKey(req);
  let status: CacheStatus = useCache ? 'miss' : 'off';
  if (useCache) {
    const cached = readEntry(key);
    if (cached.artifact) return { artifact: cached.artifact, status: 'hit' };
    if (cached.rejected) status = `rejected: ${cached.rejected}`;
  }
  const request = { ...req, key };
  const artifact = opts.compileIn === 'process' || req.debug !== 0 ? compileInProcess(request) : compileInChild(request);
  if (useCache && !artifact.tables.some((t) => t.externalMapId !== undefined)) writeEntry(key, artifact);
  return { artifact, status };
}

export function cacheKey(req: Omit<CompileRequest, 'key'>): string {
  const hash = crypto.createHash('sha256');
  const add = (label: string, value: string) => hash.update(`${label}\0${value}\0`);
  add('format', String(ARTIFACT_FORMAT));
  add('text', req.text);
  add('cflags', JSON.stringify(req.cflags));
  for (const dir of req.includeDirs) for (const file of listFiles(dir)) add(`include ${file}`, fs.readFileSync(file, 'utf8'));
  add('libbcc', libbccIdentity());
  add('kernel', `${os.release()} ${os.version()}`);
  const headers = findKernelHeaders();
  add('headers', headers ? `${headers.path} ${headers.release}` : 'none');
  add('cpus', String(possibleCpus().length));
  for (const format of tracepointFormats(req.text)) add('tracepoint', format);
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return []; }
  // A plain code-point sort: localeCompare would start ICU's collator, ~5 ms on every tool start.
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full) : e.isFile() ? [full] : [];
  });
}

/** Which libbcc would compile, identified without loading it (that is the point of the cache). */
function libbccIdentity(): string {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/usr/local/lib64']) {
    const file = path.join(dir, 'libbcc.so.0');
    try {
      const real = fs.realpathSync(file);
      const st = fs.statSync(real);
      return `${real} ${st.size} ${st.mtimeMs}`;
    } catch { /* not in this directory */ }
  }
  return 'unknown';
}

/** The format files of the tracepoints a program names: their field layout is compiled in. */
function tracepointFormats(text: string): string[] {
  const root = tracefsPath();
  if (!root) return [];
  const names = new Set<string>();
  for (const m of text.matchAll(/TRACEPOINT_PROBE\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)|tracepoint__(\w+?)__(\w+)/g)) {
    names.add(`${m[1] ?? m[3]}/${m[2] ?? m[4]}`);
  }
  return [...names].sort().map((name) => {
    try { return `${name}\n${fs.readFileSync(path.join(root, 'events', name, 'format'), 'utf8')}`; } catch { return `${name} missing`; }
  });
}

function readEntry(key: string): { artifact?: Artifact; rejected?: string } {
  const file = path.join(cacheDir(), `${key}.json`);
  let st: fs.Stats;
  try { st = fs.lstatSync(file); } catch { return {}; }
  const euid = process.geteuid?.() ?? 0;
  if (!st.isFile()) return { rejected: 'not a regular file' };
  if (st.uid !== euid) return { rejected: `owned by uid ${st.uid}` };
  if (st.mode & 0o022) return { rejected: 'writable by others' };
  if (st.size > MAX_ENTRY_BYTES) return { rejected: 'too large' };
  try {
    const artifact = validateArtifact(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (artifact.key !== key) return { rejected: 'key mismatch' };
    if (artifact.kernelRelease !== os.release()) return { rejected: `built for kernel ${artifact.kernelRelease}` };
    return { artifact };
  } catch (err) {
    return { rejected: err instanceof SyntaxError ? 'corrupt or truncated' : (err as Error).message };
  }
}

function writeEntry(key: string, artifact: Artifact): void {
  const dir = cacheDir();
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    // Never write into a directory someone else controls.
    if (!st.isDirectory() || st.uid !== (process.geteuid?.() ?? 0) || st.mode & 0o077) return;
    const tmp = path.join(dir, `.${key}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(artifact), { mode: 0o600 });
    fs.renameSync(tmp, path.join(dir, `${key}.json`));
  } catch {
    // A cache that cannot be written only costs the next start its speed.
  }
}

/** Where the compile worker is, from a checkout (.ts, run through tsx) or the built package (.js). */
function workerCommand(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, path.join(here, '..'), path.join(here, '../..')]) {
    const js = path.join(dir, 'compile-worker.js');
    if (fs.existsSync(js)) return [js];
  }
  const ts = path.join(here, 'compile-worker.ts');
  return ['--import', import.meta.resolve('tsx'), ts];
}

function compileInChild(req: CompileRequest): Artifact {
  // What clang and LLVM print goes to a memfd the worker inherits as fd 3, so that it survives
  // LLVM ending the process.
  const sink = libc.memfd_create('bpfkit-compile', 0) as number;
  let result: ReturnType<ReturnType<typeof childProcess>['spawnSync']>;
  let printed = '';
  try {
    result = childProcess().spawnSync(process.execPath, workerCommand(), {
      input: JSON.stringify(req),
      maxBuffer: 256 << 20,
      stdio: sink >= 0 ? ['pipe', 'pipe', 'pipe', sink] : ['pipe', 'pipe', 'pipe'],
      env: sink >= 0 ? { ...process.env, [CAPTURE_FD_ENV]: '3' } : process.env,
    });
    if (sink >= 0) printed = fs.readFileSync(`/proc/self/fd/${sink}`, 'utf8');
  } finally {
    if (sink >= 0) libc.close(sink);
  }
  if (result.error) throw new BpfError('LOAD', `cannot start the compiler process: ${result.error.message}`);
  let reply: { artifact?: unknown; error?: { code: BpfErrorCode; message: string; log?: string; errno?: number } };
  try {
    reply = JSON.parse(result.stdout.toString('utf8'));
  } catch {
    // LLVM ended the process (a fatal error calls exit()): its last words say why.
    const why = `${printed}\n${result.stderr.toString('utf8')}`.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
    throw new BpfError('COMPILE', `the compiler ended without an answer (status ${result.status})${why ? `: ${why}` : ''}`, { log: printed.trim() || undefined });
  }
  if (reply.error) throw new BpfError(reply.error.code, reply.error.message, { log: reply.error.log, errno: reply.error.errno });
  return validateArtifact(reply.artifact);
}
