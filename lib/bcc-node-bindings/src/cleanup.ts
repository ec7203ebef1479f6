// Every open BPF object is closed when the process ends, however it ends: normal exit, an uncaught
// exception, SIGINT, SIGTERM, SIGHUP, or a closed stdout (`tool | head`). Leaving probes behind
// would keep programs loaded after the tool is gone.
//
// Signal handlers are installed once, with the first BPF object. When the program has handlers of
// its own (a tool that prints a summary on Ctrl-C) ours stand aside: the tool ends when it is
// ready, and the exit hook still closes everything. With no other handler we close and exit as
// the signal would have.
import os from 'node:os';

interface Closeable { close(): void; closeAsync?(): Promise<void> }

const open = new Set<Closeable>();
let installed = false;

export function closeAll(): void {
  for (const obj of [...open]) {
    try { obj.close(); } catch { /* closing the rest matters more */ }
  }
}

/** closeAll(), detaching in parallel what the kernel is slow to detach (see BPF.closeAsync). */
export async function closeAllAsync(): Promise<void> {
  await Promise.all([...open].map(async (obj) => {
    try { await (obj.closeAsync ? obj.closeAsync() : obj.close()); } catch { /* closing the rest matters more */ }
  }));
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
      if (process.listenerCount(signal) > 1) return;
      closeAll();
      process.exit(128 + os.constants.signals[signal]);
    };
    process.on(signal, handler);
  }
  // Node ignores SIGPIPE; a reader that went away shows up as EPIPE on stdout.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (process.stdout.listenerCount('error') > 1) return;
    if (err.code !== 'EPIPE') throw err;
    closeAll();
    process.exit(0);
  });
}
