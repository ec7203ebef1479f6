// Signal names as `kill -l` prints them (bash's names, without "SIG"), for options that take a
// signal (killsnoop's -s) and output that names one (killsnoop, exitsnoop). The numbers are the
// x86/arm64/riscv ones (asm-generic); alpha, mips, parisc and sparc renumber several.

/** 1 to 31, in order. */
const NAMES = [
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1',
  'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP',
  'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR',
  'SYS',
];

/** glibc keeps 32 and 33 for its threads: SIGRTMIN is 34 for every program a user runs. */
const RTMIN = 34;
const RTMAX = 64;
const ALIASES: Record<string, number> = { IOT: 6, POLL: 29, CLD: 17 };

/** "KILL" for 9, "RTMIN+3" for 37, "RTMAX-1" for 63, as bash's `kill -l` prints; undefined when not a signal. */
export function signalName(n: number): string | undefined {
  if (n >= 1 && n <= NAMES.length) return NAMES[n - 1];
  if (n < RTMIN || n > RTMAX) return undefined;
  if (n === RTMIN) return 'RTMIN';
  if (n === RTMAX) return 'RTMAX';
  // bash names the first half from RTMIN up and the second from RTMAX down.
  return n - RTMIN <= 15 ? `RTMIN+${n - RTMIN}` : `RTMAX-${RTMAX - n}`;
}

/** A signal from a name ("KILL", "SIGKILL", "kill", "RTMIN+3") or a number ("9", "0"); undefined if none. */
export function parseSignal(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    // 0 is "no signal": kill(pid, 0) only checks that the target exists, and tools trace it too.
    return n === 0 || signalName(n) !== undefined ? n : undefined;
  }
  const name = text.toUpperCase().replace(/^SIG/, '');
  const plain = NAMES.indexOf(name);
  if (plain >= 0) return plain + 1;
  if (Object.hasOwn(ALIASES, name)) return ALIASES[name];
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (!rt) return undefined;
  const base = rt[1] === 'MIN' ? RTMIN : RTMAX;
  const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
  const n = base + offset;
  return n >= RTMIN && n <= RTMAX ? n : undefined;
}
