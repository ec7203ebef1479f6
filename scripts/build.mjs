// Compiles the tools for the installed package: one ES module per entry point in dist/, with
// shared code split into chunks, so `npx bpfkit …` starts from plain JavaScript instead of paying
// tsx's TypeScript loader (~0.3 s) on every run. koffi stays external: it is a native module.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
// Every command of the registry (tools/index.ts) is an entry point: tools/<name>/<name>.ts.
const { REGISTRY } = await import(path.join(root, 'tools', 'index.ts'));
const tools = REGISTRY.map((t) => `tools/${t.name}/${t.name}.ts`);
// And every step of the course (`bpfkit learn N` imports examples/learn/NN-<step>.js).
const { STEPS, stepBase } = await import(path.join(root, 'examples', 'learn', 'steps.ts'));
const steps = STEPS.map((s) => `examples/learn/${stepBase(s)}.ts`);

fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // The compile worker runs in a child process (lib/bcc-node-bindings/src/compile-cache.ts looks
  // for dist/compile-worker.js beside its chunk): without it the package cannot compile.
  entryPoints: ['bin/bpfkit.ts', ...tools, ...steps, { in: 'lib/bcc-node-bindings/src/compile-worker.ts', out: 'compile-worker' }],
  outdir: 'dist',
  outbase: '.',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  external: ['koffi'],
  // minimist and asciichart are CommonJS; bundled into ESM they still need require().
  banner: { js: "import { createRequire as __bpfkitRequire } from 'node:module'; const require = __bpfkitRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The sources start with a sh launcher for tsx (see bin/bpfkit.ts); the compiled files get the
// same two lines without tsx. sh runs line 2 (node sees a comment): it drops NODE_EXTRA_CA_CERTS,
// whose CA bundle Node parses before any of our code runs (35-60 ms of every start where it is
// set; the tools make no TLS connection), then runs this file on node.
const LAUNCHER = '#!/bin/sh\n// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"\n';
for (const entry of ['bin/bpfkit.ts', ...tools]) {
  const out = path.join(root, 'dist', entry.replace(/\.ts$/, '.js'));
  const code = fs.readFileSync(out, 'utf8').replace(/^#![^\n]*\n(\/\/ 2>\/dev\/null;[^\n]*\n)?/, '');
  fs.writeFileSync(out, `${LAUNCHER}${code}`, { mode: 0o755 });
}
// The man pages (package.json's `man`), made from the same registry and specs as --help.
const { generateManPages } = await import(path.join(root, 'scripts', 'gen-man.ts'));
await generateManPages(path.join(root, 'dist', 'man'));
console.log(`built dist/ (${tools.length} tools, ${steps.length} course steps, man pages)`);
