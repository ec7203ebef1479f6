// Command-line conventions shared by every tool: bcc's short and long flags parsed with minimist,
// every value typed and range-checked before anything else happens, unknown options refused,
// and `-h/--help` laid out like argparse's (usage, options, examples) so bcc users feel at home.
import fs from 'node:fs';
import minimist from 'minimist';

export type OptionType = 'boolean' | 'int' | 'number' | 'string';

export interface OptionSpec {
  long: string;
  short?: string;
  type: OptionType;
  help: string;
  metavar?: string;
  default?: unknown;
  /** Inclusive bounds for int and number options. */
  min?: number;
  max?: number;
  /** Turns the parsed value into the final one, or throws UsageError. */
  parse?: (value: never) => unknown;
  /** Left out of --help (bcc hides --ebpf the same way). */
  hidden?: boolean;
  /**
   * A string option that may be given many times: the values are joined with commas, as if the
   * list had been given once (`--drop a --drop b` is `--drop a,b`), so parse() sees one list.
   */
  repeatable?: true;
}

export interface PositionalSpec {
  name: string;
  /** 'string' keeps the text as given (pktcount's interface name); parse() checks it. */
  type: 'int' | 'number' | 'string';
  help: string;
  min?: number;
  max?: number;
}

export interface ToolSpec {
  name: string;
  /** One line, shown by --help and `bpfkit --list`. */
  description: string;
  options: OptionSpec[];
  positionals?: PositionalSpec[];
  /** Collects everything after the first non-option (syscount's --exec CMD ARGS…). */
  restAfter?: string;
  examples: Array<[command: string, meaning: string]>;
  /** Which toolkit-wide options apply (all tools get --json, --ebpf, --explain). */
  chart?: boolean;
  /**
   * Whether this run needs root; runTool skips its root check when this says false (syscount -l
   * only lists names, as bcc's does for any user). Absent: every run but --ebpf needs root.
   */
  needsRoot?: (opts: ParsedOptions) => boolean;
  /** Common options this command does not take (the exporter prints no events: no --json). */
  without?: string[];
}

/** The help of restAfter's option (`--exec COMMAND ...`): the same promise for every tool. */
export const REST_HELP = 'run COMMAND, trace only it, stop when it exits, and exit with its status';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The options every tool has. */
export const COMMON_OPTIONS: OptionSpec[] = [
  { long: 'json', type: 'boolean', help: 'print one JSON object per line (events or intervals)' },
  { long: 'explain', type: 'boolean', help: 'print what was loaded and attached (attach points and why, verifier and JIT sizes, maps) on stderr' },
  { long: 'ebpf', type: 'boolean', help: 'print the BPF program and exit' },
  { long: 'no-cache', type: 'boolean', help: 'compile the BPF program even if a cached build exists (also: BPFKIT_NO_CACHE=1)' },
  // -q only where the tool leaves it free: execsnoop's -q is bcc's --quote (see allOptions).
  { long: 'quiet', short: 'q', type: 'boolean', help: 'do not print notes such as the kernel headers notice' },
  { long: 'version', type: 'boolean', help: "show program's version number and exit" },
];

/** bcc's `interval count` of the histogram tools: print every INTERVAL seconds, COUNT times. */
export const INTERVAL_COUNT: PositionalSpec[] = [
  { name: 'interval', type: 'int', min: 1, max: 99999999, help: 'output interval, in seconds' },
  { name: 'count', type: 'int', min: 1, max: 99999999, help: 'number of outputs' },
];

export const CHART_OPTION: OptionSpec = {
  long: 'chart', type: 'boolean', help: 'draw a live chart of the main series (plain text when piped)',
};

/**
 * Every option a command takes, in --help's order: its own, then the common ones. A tool may
 * redefine a common option, e.g. to give --json bcc's short flag (biolatency's -j); and a tool's
 * own short flag wins over a common one's, which then keeps only its long form.
 */
export function allOptions(spec: ToolSpec): OptionSpec[] {
  const own = new Set([...spec.options.map((o) => o.long), ...(spec.without ?? [])]);
  const ownShort = new Set(spec.options.map((o) => o.short).filter(Boolean));
  const common = COMMON_OPTIONS.filter((o) => !own.has(o.long))
    .map((o) => (o.short && ownShort.has(o.short) ? { ...o, short: undefined } : o));
  return [...spec.options, ...common, ...(spec.chart ? [CHART_OPTION] : [])];
}

function flagNames(o: OptionSpec): string {
  return [o.short && `-${o.short}`, `--${o.long}`].filter(Boolean).join('/');
}

const INT = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function convert(o: { type: OptionType; min?: number; max?: number }, raw: unknown, label: string): unknown {
  if (o.type === 'boolean') return Boolean(raw);
  if (Array.isArray(raw)) throw new UsageError(`${label} given more than once`);
  const text = String(raw ?? '');
  if (o.type === 'string') {
    if (raw === true || raw === undefined || text === '') throw new UsageError(`${label} needs a value`);
    return text;
  }
  const ok = o.type === 'int' ? INT.test(text) : NUMBER.test(text);
  const value = Number(text);
  // One wording for every bounded value, options and positionals alike; a bound left out is the
  // largest value the type holds, which is what is accepted then.
  const limit = o.type === 'int' ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE;
  const bounded = o.min !== undefined || o.max !== undefined;
  const range = bounded ? ` from ${o.min ?? -limit} to ${o.max ?? limit}` : '';
  const kind = o.type === 'int' ? 'an integer' : 'a number';
  if (!ok || !Number.isFinite(value) || (o.type === 'int' && !Number.isSafeInteger(value)) ||
      (o.min !== undefined && value < o.min) || (o.max !== undefined && value > o.max)) {
    throw new UsageError(`${label}: ${expected(kind + range, raw === true ? '' : text)}`);
  }
  return value;
}

/** The one way a value out of range is told, wherever it is checked. */
function expected(what: string, got: string): string {
  return `expected ${what}, got ${JSON.stringify(got)}`;
}

export type ParsedOptions = Record<string, unknown> & {
  json: boolean; explain: boolean; ebpf: boolean; chart: boolean; help: boolean;
  /** The caller prints the version and exits, as for help. */
  version: boolean;
  /** No notes on stderr (the kernel headers notice); warnings and errors still print. */
  quiet: boolean;
  /** Positionals by name. */
  _: string[];
  /** restAfter collects here. */
  rest: string[];
};

/** Parses argv against the spec; throws UsageError with one clear line on any problem. */
export function parseArgs(spec: ToolSpec, argv: string[]): ParsedOptions {
  const options = allOptions(spec);
  let rest: string[] = [];
  let args = argv;
  if (spec.restAfter) {
    const at = argv.indexOf(`--${spec.restAfter}`);
    if (at >= 0) {
      rest = argv.slice(at + 1);
      args = argv.slice(0, at);
      if (rest.length === 0) throw new UsageError(`--${spec.restAfter} needs a command`);
    }
  }
  const known = new Set<string>(['h', 'help', '_']);
  const aliases: Record<string, string> = { h: 'help' };
  const strings: string[] = [];
  const booleans: string[] = ['help'];
  for (const o of options) {
    known.add(o.long);
    if (o.short) { known.add(o.short); aliases[o.short] = o.long; }
    (o.type === 'boolean' ? booleans : strings).push(o.long);
  }
  args = splitAttachedShortValues(spellNegatedLongs(args, options), options);
  const rejected: string[] = [];
  const parsed = minimist(args, {
    string: strings, boolean: booleans, alias: aliases,
    unknown: (arg) => {
      if (/^-/.test(arg) && !NUMBER.test(arg)) { rejected.push(arg); return false; }
      return true;
    },
  });
  if (rejected.length) throw new UsageError(`unrecognized option ${rejected[0].split('=')[0]}`);
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new UsageError(`unrecognized option ${key.length === 1 ? '-' : '--'}${key}`);
  }
  const out: Record<string, unknown> = { help: Boolean(parsed.help), rest };
  for (const o of options) {
    const raw = parsed[o.long];
    const given = o.type === 'boolean' ? raw === true : raw !== undefined && raw !== '' || hasFlag(args, o);
    if (!given) { out[o.long] = o.type === 'boolean' ? Boolean(o.default) : o.default; continue; }
    const joined = o.repeatable && Array.isArray(raw) ? raw.join(',') : raw;
    let value = convert(o, joined, `argument ${flagNames(o)}`);
    if (o.parse) {
      try { value = o.parse(value as never); } catch (err) {
        throw err instanceof UsageError ? new UsageError(`argument ${flagNames(o)}: ${err.message}`) : err;
      }
    }
    out[o.long] = value;
  }
  const positionals = parsed._.map(String);
  const specs = spec.positionals ?? [];
  if (positionals.length > specs.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[specs.length])}`);
  specs.forEach((p, i) => {
    out[p.name] = positionals[i] === undefined ? undefined : convert(p, positionals[i], `argument ${p.name}`);
  });
  out._ = positionals;
  return out as ParsedOptions;
}

/**
 * argparse takes a short option's value attached (`-fO_WRONLY`, `-p1234`); minimist reads the
 * letters after a string option's as more flags. Such arguments are split (`-f O_WRONLY`) for
 * the short options that take a value; everything after `--` is left alone.
 */
function splitAttachedShortValues(argv: string[], options: OptionSpec[]): string[] {
  const takesValue = new Set(options.filter((o) => o.short && o.type !== 'boolean').map((o) => o.short!));
  const end = argv.indexOf('--');
  return argv.flatMap((arg, i) => {
    const m = /^-([A-Za-z])([^=].*)$/.exec(arg);
    return m && takesValue.has(m[1]) && (end < 0 || i < end) ? [`-${m[1]}`, m[2]] : [arg];
  });
}

/**
 * minimist reads every `--no-X` as X=false, so an option whose own name starts with "no-"
 * (--no-cache) never arrives, and `--no-json` would pass silently. Such options are rewritten in
 * the `--name=value` form, which minimist takes as it is; any other `--no-X` is refused, as
 * argparse (and so bcc) refuses it.
 */
function spellNegatedLongs(args: string[], options: OptionSpec[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') { out.push(...args.slice(i)); break; }
    if (!/^--no-[^=]/.test(arg) || arg.includes('=')) { out.push(arg); continue; }
    const o = options.find((c) => c.long === arg.slice(2));
    if (!o) throw new UsageError(`unrecognized option ${arg}`);
    if (o.type === 'boolean') out.push(`${arg}=true`);
    else if (i + 1 < args.length && !/^-./.test(args[i + 1])) out.push(`${arg}=${args[++i]}`);
    else out.push(`${arg}=`);
  }
  return out;
}

/** minimist leaves a string option given with no value as ''; that is an error, not absence. */
function hasFlag(args: string[], o: OptionSpec): boolean {
  return args.some((a) => a === `--${o.long}` || a.startsWith(`--${o.long}=`) || (o.short !== undefined && a === `-${o.short}`));
}

export function usageLine(spec: ToolSpec): string {
  const parts = ['[-h]'];
  for (const o of allOptions(spec)) {
    if (o.hidden) continue;
    const flag = o.short ? `-${o.short}` : `--${o.long}`;
    parts.push(o.type === 'boolean' ? `[${flag}]` : `[${flag} ${o.metavar ?? o.long.toUpperCase().replace(/-/g, '_')}]`);
  }
  for (const p of spec.positionals ?? []) parts.push(`[${p.name}]`);
  if (spec.restAfter) parts.push(`[--${spec.restAfter} COMMAND ...]`);
  return `usage: ${spec.name} ${parts.join(' ')}`;
}

export function helpText(spec: ToolSpec): string {
  const lines = [usageLine(spec), '', spec.description, ''];
  if (spec.positionals?.length) {
    lines.push('positional arguments:');
    for (const p of spec.positionals) lines.push(formatHelpRow(`  ${p.name}`, p.help));
    lines.push('');
  }
  lines.push('options:', formatHelpRow('  -h, --help', 'show this help message and exit'));
  for (const o of allOptions(spec)) {
    if (o.hidden) continue;
    const metavar = o.type === 'boolean' ? '' : ` ${o.metavar ?? o.long.toUpperCase().replace(/-/g, '_')}`;
    const flags = [o.short && `-${o.short}${metavar}`, `--${o.long}${metavar}`].filter(Boolean).join(', ');
    lines.push(formatHelpRow(`  ${flags}`, o.help));
  }
  if (spec.restAfter) lines.push(formatHelpRow(`  --${spec.restAfter} COMMAND ...`, REST_HELP));
  lines.push('', 'examples:');
  const width = Math.max(...spec.examples.map(([cmd]) => cmd.length));
  for (const [cmd, meaning] of spec.examples) lines.push(`    ${cmd.padEnd(width)}  # ${meaning}`);
  return `${lines.join('\n')}\n`;
}

function formatHelpRow(left: string, help: string): string {
  return left.length >= 24 ? `${left}\n${' '.repeat(24)}${help}` : `${left.padEnd(24)}${help}`;
}

// --- validators for common option values ---

const PID_MAX = readPidMax();

function readPidMax(): number {
  try { return Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || 4194304; } catch { return 4194304; }
}

/** A PID that exists now: tracing one that does not would silently print nothing. */
export function existingPid(pid: number): number {
  if (!fs.existsSync(`/proc/${validId(pid)}`)) throw new UsageError(`no process with PID ${pid}`);
  return pid;
}

/** A thread ID that exists now (/proc/<tid> is there for every thread, though not listed). */
export function existingTid(tid: number): number {
  if (!fs.existsSync(`/proc/${validId(tid)}`)) throw new UsageError(`no thread with TID ${tid}`);
  return tid;
}

function validId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1 || id > PID_MAX) throw new UsageError(expected(`an integer from 1 to ${PID_MAX}`, String(id)));
  return id;
}

export const PID_OPTION_RANGE = { min: 1, max: PID_MAX };

/** A user name or numeric UID, as bcc's -u accepts. */
export function uidFromUser(value: string): number {
  if (/^\d+$/.test(value)) {
    const uid = Number(value);
    if (uid > 0xfffffffe) throw new UsageError(`UID ${value} out of range`);
    return uid;
  }
  for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid] = line.split(':');
    if (name === value) return Number(uid);
  }
  throw new UsageError(`no user named ${JSON.stringify(value)}`);
}

/** A regular expression from the user (matched in user space, never spliced into C). */
export function regex(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (err) {
    // V8 says "Invalid regular expression: /(/: Unterminated group"; keep only the reason.
    const reason = (err as Error).message.replace(`Invalid regular expression: /${value}/: `, '')
      .replace(/^Invalid regular expression: /, '');
    throw new UsageError(`invalid regular expression '${value}': ${reason}`);
  }
}
