// bashreadline's one configuration: which file and function the uretprobe goes on (the ladder
// --explain prints, each rung naming the file and its offset), whether user space must keep
// bash's lines only, and bashreadline.bpf.c's #defines.
import type { BPF } from 'bcc-node-bindings';
import { ringBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachCandidate } from '../../lib/run/attach-plan.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { liveReadlineFiles, type ReadlineFiles } from './readline-file.ts';

/** bcc's default file: the bash of the system. */
export const BASH = '/bin/bash';

/**
 * The functions that return the line, best first. readline_internal_teardown ends every
 * readline() call and returns its line: a uretprobe on it catches the first line of a bash that
 * was already waiting at its prompt when the tool started, which one on readline() itself misses
 * (a uretprobe sees only the returns of calls entered after it was placed). bcc and libbpf-tools
 * moved to it for that reason; readline() is the fallback where it is not exported.
 */
export const FUNCTIONS = ['readline_internal_teardown', 'readline'] as const;

/**
 * The most bytes of a line read. bcc reads 80 and silently cuts the rest: a long pipeline or a
 * pasted block (bracketed paste hands readline's caller the whole block, newlines included) lost
 * most of its text. Records carry only the bytes a line has, so a short line costs what bcc's
 * does; 16 KiB keeps the per-CPU scratch record small while covering any typed command. Longer
 * lines say they are truncated (--json's `truncated`).
 */
export const LINE_READ = 16384;

export interface BashreadlineConfig {
  /** -s: the file to probe; absent: /bin/bash, else the libreadline it links. */
  shared?: string;
}

export interface ReadlineProbe {
  /** The file the uretprobe is placed on, as libbcc resolved it. */
  path: string;
  sym: string;
  /** Its file offset. */
  offset: bigint;
}

export interface BashreadlineProgram extends ToolProgram {
  ringBuffer: boolean;
  probe: ReadlineProbe;
  /**
   * Keep only records whose comm is "bash" (bcc's filter), done in user space: needed only when
   * the probe is in a file other processes also run, a shared libreadline (python's REPL, gdb,
   * psql…). On bash's own file every process the probe fires in is a bash, whatever its comm
   * (Fedora's `sh`, `rbash`), and bcc's filter would drop those.
   */
  bashOnly: boolean;
}

export function probeLabel(p: ReadlineProbe): string {
  return `uretprobe on ${p.sym} in ${p.path} (file offset 0x${p.offset.toString(16)})`;
}

export function configureBashreadline(config: BashreadlineConfig, files: ReadlineFiles = liveReadlineFiles(), kernel: KernelView = liveKernel()): BashreadlineProgram {
  const noUprobes = () => (files.uprobes() ? null : 'this kernel has no uprobes (CONFIG_UPROBE_EVENTS is off)');
  const rungs = (file: () => string | null, where: string): Array<AttachCandidate<ReadlineProbe>> => FUNCTIONS.map((sym) => {
    let found: ReadlineProbe | null | undefined;
    const find = () => {
      if (found !== undefined) return found;
      const f = file();
      const at = f === null ? null : files.symbol(f, sym);
      return (found = at && { ...at, sym });
    };
    return {
      get label() { const p = find(); return p ? probeLabel(p) : `uretprobe on ${sym} in ${where}`; },
      unavailable: () => noUprobes() ?? (find() ? null : file() === null ? `${BASH} links no libreadline` : `no symbol ${sym} in ${file()}`),
      get value() { return find()!; },
    };
  });

  let candidates: Array<AttachCandidate<ReadlineProbe>>;
  if (config.shared !== undefined) {
    const shared = config.shared;
    // Bad input, not a missing feature: the user named a file without readline in it.
    if (FUNCTIONS.every((sym) => files.symbol(shared, sym) === null)) {
      throw new UsageError(`-s ${shared}: no readline in it (it has neither ${FUNCTIONS.join(' nor ')} as a symbol)`);
    }
    candidates = rungs(() => shared, shared);
  } else {
    let linked: string | null | undefined;
    const library = () => (linked === undefined ? (linked = files.linkedReadline(BASH)) : linked);
    candidates = [...rungs(() => BASH, BASH), ...rungs(library, `the libreadline ${BASH} links`)];
    if (files.uprobes() && candidates.every((c) => c.unavailable() !== null)) {
      throw new MissingPrerequisite(`no readline in ${BASH} or a libreadline it links: name the file that has it with -s`);
    }
  }
  const hook = chooseAttach('lines bash reads (the return of readline)', candidates);
  const stream = chooseAttach('event records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  const probe = hook.value;
  const ringBuffer = stream.value;
  return {
    file: 'bashreadline.bpf.c',
    defines: {
      LINE_READ,
      USE_RINGBUF: ringBuffer,
      // Lines come at typing speed: the smallest default ring holds thousands of them.
      ...(ringBuffer ? { RINGBUF_PAGES: ringBufferPages(kernel.cpus()) } : {}),
    },
    attachments: [hook.choice, stream.choice],
    ringBuffer,
    probe,
    bashOnly: !files.sameFile(probe.path, BASH),
    attach(bpf: BPF) {
      bpf.attachUretprobe({ name: probe.path, sym: probe.sym, fnName: 'line_returned' });
    },
  };
}
