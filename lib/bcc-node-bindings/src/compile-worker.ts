// The compile step in a process of its own: reads a CompileRequest as JSON on stdin, writes
// { artifact } or { error } as JSON on stdout, and exits. The tool that spawned it never maps
// LLVM, so it keeps a fraction of the memory (about 45 MB instead of 165 MB).
import { compileInProcess, type CompileRequest } from './compile.ts';
import { isBpfError } from './errors.ts';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
let reply: unknown;
try {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CompileRequest;
  reply = { artifact: compileInProcess(request) };
} catch (err) {
  reply = isBpfError(err)
    ? { error: { code: err.code, message: err.message, log: err.log, errno: err.errno } }
    : { error: { code: 'LOAD', message: `compiler process failed: ${(err as Error).message}` } };
}
process.stdout.write(JSON.stringify(reply));
