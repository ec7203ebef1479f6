// Every open BPF object is closed when the process ends, however it ends: normal exit, an uncaught
// exception, SIGINT, SIGTERM, SIGHUP, or a closed stdout (`tool | head`). Leaving probes behind
// would keep programs loaded after the tool is gone.
//
// Signal handlers are installed once, with the first BPF object. A tool that installs its own
// handler (to print a summary on Ctrl-C) keeps control: ours then only closes, and the tool
// decides when to exit. With no other handler we close and exit as the signal would have.
import os from 'node:os';

interface Closeable { close(): void }

const open = new Set<Closeable>();
let installed = false;

export function closeAll(): void {
  for (const obj of [...open]) {
    try { obj.close(); } catch { /* closing the rest matters more */ }
  }
}

export function registerForCleanup(obj: Closeable): void {
  open.add(obj);
  if (!installed) install();
}

export function unregisterFromCleanup(obj: Closeable): void {
  open.delete(obj);
}

function install(): void {
  installed = true;
  process.on('exit', closeAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      closeAll();
      // Ours is the only handler: behave like the default action, after cleaning up.
      if (process.listenerCount(signal) === 1) process.exit(128 + os.constants.signals[signal]);
    };
    process.on(signal, handler);
  }
  // Node ignores SIGPIPE; a reader that went away shows up as EPIPE on stdout.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closeAll();
    if (process.stdout.listenerCount('error') === 1) process.exit(0);
  });
}
