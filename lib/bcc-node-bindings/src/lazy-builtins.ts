// Node modules that only rare paths use (compiling in a child process, mounting tracefs), loaded
// on first use: importing node:child_process up front costs every start ~3 ms (it pulls in net
// and dgram), and a cached start never spawns anything.
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);

export function childProcess(): typeof import('node:child_process') {
  return requireBuiltin('node:child_process') as typeof import('node:child_process');
}
