// The binding suite with every program loaded from a compile cache of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

process.env.BPFKIT_COMPILE_CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bpfkit-cache-test-'));
fs.chmodSync(process.env.BPFKIT_COMPILE_CACHE_DIR, 0o700);
process.env.BPFKIT_TEST_PATH = 'cached';
process.on('exit', () => fs.rmSync(process.env.BPFKIT_COMPILE_CACHE_DIR!, { recursive: true, force: true }));
await import('./binding-suite.ts');
