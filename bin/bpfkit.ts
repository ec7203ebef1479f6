#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// (The two lines above run this file with the checkout's tsx from any directory: sh runs line 2,
// for TypeScript it is a comment. The installed package's dist/ files start the same way, without
// tsx. NODE_EXTRA_CA_CERTS is dropped because Node parses that CA bundle before running any code,
// about 35-60 ms here, and no tool makes a TLS connection: `sudo` drops it too, by env_reset.)
//
// bpfkit: one entry point for every tool. `bpfkit execsnoop -t` runs tools/execsnoop/execsnoop with "-t";
// `bpfkit --list` shows what there is.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REGISTRY, toolInfo } from '../tools/index.ts';

const USAGE = 'usage: bpfkit <tool> [options]   |   bpfkit --list   |   bpfkit <tool> --help';
const [first] = process.argv.slice(2);

if (first === '--list' || first === '-l') {
  const width = Math.max(...REGISTRY.map((t) => t.name.length));
  for (const t of REGISTRY) process.stdout.write(`${t.name.padEnd(width)}  ${t.summary}\n`);
} else if (first === undefined || first === '-h' || first === '--help') {
  process.stdout.write(`${USAGE}\n`);
  if (first === undefined) process.exitCode = 2;
} else if (!toolInfo(first)) {
  process.stderr.write(`bpfkit: no tool named ${JSON.stringify(first)} (bpfkit --list shows them)\n`);
  process.exitCode = 2;
} else {
  // The tool reads its options from process.argv as if it had been run directly.
  process.argv.splice(2, 1);
  const here = fileURLToPath(import.meta.url);
  const tool = path.join(path.dirname(here), '..', 'tools', first, `${first}${path.extname(here)}`);
  await import(pathToFileURL(tool).href);
}
