// secwatch's one configuration: the rules and a KernelView → secwatch.bpf.c's #defines, the hooks
// of the events some rule watches (and why each), how deny is enforced here, and the maps the
// rules become. No text of a rule reaches the C: program.ts writes them into maps (populate).
import fs from 'node:fs';
import { isBpfError, type ArrayTable, type BPF } from 'bcc-node-bindings';
import { burstRingBufferPages } from '../../lib/run/event-channel.ts';
import { chooseAttach, type AttachCandidate, type AttachChoice } from '../../lib/run/attach-plan.ts';
import type { DefineValue, ToolProgram } from '../../lib/run/program.ts';
import { MissingPrerequisite } from '../../lib/run/errors.ts';
import { liveKernel, type KernelView } from '../../lib/kernel/view.ts';
import { fdSocketOffsets, filePathOffsets, mountNamespaceOffsets, taskCommOffset, taskParentOffsets } from '../../lib/kernel/offsets.ts';
import { compileRules } from './rules.ts';
import {
  ACTIONS, EVENT_KINDS, PATH_LEN, type EventKind, type KernelRules, type Rule, type RuleMasks, type RuleSlot,
} from './model.ts';

export interface SecwatchConfig {
  rules: Rule[];
  /** -p: this process only. */
  pid?: number;
  /** --dry-run: no action is taken; records say what would have been. */
  dryRun?: boolean;
  /** Send a record per alert (false: count only, the exporter). */
  events: boolean;
  /** secwatch's own PID: never watched. */
  self: number;
}

/** How deny rules are enforced on this kernel, known once attach() has run. */
export interface DenyEnforcement {
  /** BPF LSM hooks refuse the calls. */
  lsm: boolean;
  /** Why deny became kill, when it did. */
  fallback?: string;
}

export interface SecwatchProgram extends ToolProgram {
  rules: Rule[];
  ringBuffer: boolean;
  /** Rules whose event this kernel cannot hook, with why (they never alert). */
  inactive: Array<{ rule: Rule; reason: string }>;
  deny: DenyEnforcement;
  /** Writes the rules into the program's maps (attach() does it, before the syscall hooks). */
  populate(bpf: BPF): void;
}

/** The system calls behind each event; open's are hooked at entry and exit. */
const EVENT_SYSCALLS: Record<Exclude<EventKind, 'exec'>, string[]> = {
  open: ['open', 'openat', 'openat2', 'creat'],
  connect: ['connect'],
  ptrace: ['ptrace'],
  module: ['init_module', 'finit_module'],
  chmod: ['chmod', 'fchmodat', 'fchmodat2', 'fchmod'],
  link: ['symlink', 'symlinkat', 'link', 'linkat'],
  dup: ['dup2', 'dup3'],
  bpf: ['bpf'],
  truncate: ['truncate', 'ftruncate'],
};

/** LSM hooks of the deniable events. */
const LSM_HOOKS: Partial<Record<EventKind, string>> = { exec: 'bprm_check_security', open: 'file_open', connect: 'socket_connect' };

type ExecHook = { kind: 'raw'; bprmArg: number; fileOffset: number; filenameOffset: number; interpOffset: number } | { kind: 'tracepoint' };

/**
 * The inode of PID 1's mount namespace: any other is a container's. Where PID 1's is hidden
 * (a sandbox refuses even root), secwatch's own namespace stands for the host's.
 */
export function hostMountNamespace(): number {
  for (const pid of ['1', 'self']) {
    try { return fs.statSync(`/proc/${pid}/ns/mnt`).ino; } catch { /* next */ }
  }
  return 0;
}

/** Whether this kernel runs BPF LSM programs, or why not. */
function lsmUnavailable(kernel: KernelView): string | null {
  let lsms: string | null = null;
  try { lsms = fs.readFileSync('/sys/kernel/security/lsm', 'utf8'); } catch { /* securityfs not mounted: try the load */ }
  if (lsms !== null && !lsms.split(',').includes('bpf')) return `BPF LSM is not active ("bpf" is not in lsm=${lsms.trim()}; add it to the kernel's boot parameters)`;
  if (!kernel.fentry()) return 'this kernel refuses trampoline programs (fentry loads with EPERM), and BPF LSM programs attach through them';
  return null;
}

export function configureSecwatch(config: SecwatchConfig, kernel: KernelView = liveKernel()): SecwatchProgram {
  const compiled: KernelRules = compileRules(config.rules);
  const attachments: AttachChoice[] = [];
  const inactive: SecwatchProgram['inactive'] = [];
  const enterExists = (s: string) => kernel.tracepoint('syscalls', `sys_enter_${s}`);
  const exitExists = (s: string) => kernel.tracepoint('syscalls', `sys_exit_${s}`);
  const hooked = new Set<EventKind>();
  const syscallDefines: Record<string, DefineValue> = {};
  const tracepoints: Array<{ tp: string; fn: string }> = [];

  if (!enterExists('openat')) throw new MissingPrerequisite('secwatch needs the syscall tracepoints (CONFIG_FTRACE_SYSCALLS), which this kernel lacks');

  let exec: ExecHook | null = null;
  if (compiled.events.has('exec')) {
    const bprmArg = kernel.rawArg('sched_process_exec', 'linux_binprm');
    const fileOffset = kernel.offset('linux_binprm', 'file');
    const nameOffsets = [kernel.offset('linux_binprm', 'filename'), kernel.offset('linux_binprm', 'interp')];
    const hook = chooseAttach<ExecHook>('exec (the program run, once loaded)', [
      {
        label: 'raw tracepoint sched_process_exec (the file run, its path resolved in the kernel)',
        unavailable: () => (!kernel.rawTracepoints() ? 'needs Linux 4.17'
          : bprmArg === undefined || fileOffset === undefined || nameOffsets.includes(undefined) ? "the kernel's BTF does not describe sched_process_exec's linux_binprm" : null),
        value: { kind: 'raw', bprmArg: bprmArg ?? 0, fileOffset: fileOffset ?? 0, filenameOffset: nameOffsets[0] ?? 0, interpOffset: nameOffsets[1] ?? 0 },
      },
      { label: 'tracepoint sched:sched_process_exec (the name exec was given, resolved from the working directory)', unavailable: () => null, value: { kind: 'tracepoint' } },
    ]);
    exec = hook.value;
    attachments.push(hook.choice);
    hooked.add('exec');
  }

  for (const event of EVENT_KINDS) {
    if (event === 'exec' || !compiled.events.has(event)) continue;
    const both = event === 'open';
    const present = EVENT_SYSCALLS[event].filter((s) => enterExists(s) && (!both || exitExists(s)));
    const noModules = event === 'module' && !fs.existsSync('/proc/modules');
    const candidates: AttachCandidate<string[] | null>[] = [{
      label: `tracepoints syscalls:sys_${both ? 'enter/exit' : 'enter'}_{${present.join(',') || EVENT_SYSCALLS[event].join(',')}}`,
      unavailable: () => (present.length ? null : 'this kernel has none of these tracepoints'),
      value: present,
    }];
    // Without CONFIG_MODULES both calls are stubs without tracepoints, and nothing can be loaded.
    if (event === 'module') {
      candidates.push({
        label: 'nothing to watch: this kernel cannot load modules (CONFIG_MODULES is off; both calls return ENOSYS)',
        kind: 'tracepoint',
        unavailable: () => (noModules ? null : 'this kernel loads modules'),
        value: null,
      });
    }
    const hook = chooseAttach(`${event} (${EVENT_SYSCALLS[event].join(', ')})`, candidates);
    attachments.push(hook.choice);
    if (!hook.value) {
      for (const rule of config.rules) if (rule.event === event) inactive.push({ rule, reason: hook.choice.chosen });
      continue;
    }
    hooked.add(event);
    for (const s of hook.value) {
      syscallDefines[`HAS_${s.toUpperCase()}`] = true;
      if (both) tracepoints.push({ tp: `syscalls:sys_exit_${s}`, fn: `tracepoint__syscalls__sys_exit_${s}` });
      tracepoints.push({ tp: `syscalls:sys_enter_${s}`, fn: `tracepoint__syscalls__sys_enter_${s}` });
    }
  }

  const wantsDeny = config.rules.some((r) => r.action === 'deny');
  let lsmPlanned = false;
  if (wantsDeny) {
    const deny = chooseAttach<boolean>('deny (refusing exec, open and connect before they happen)', [
      {
        label: `BPF LSM hooks ${Object.values(LSM_HOOKS).map((h) => `lsm/${h}`).join(', ')}`,
        kind: 'fentry',
        unavailable: () => lsmUnavailable(kernel),
        value: true,
      },
      { label: 'SIGKILL at the syscall hooks instead (the call completes; the process runs no further instruction)', kind: 'tracepoint', unavailable: () => null, value: false },
    ]);
    attachments.push(deny.choice);
    lsmPlanned = deny.value;
  }
  const denyEnforcement: DenyEnforcement = { lsm: false };
  if (wantsDeny && !lsmPlanned) denyEnforcement.fallback = attachments.at(-1)!.rejected[0]?.reason ?? 'BPF LSM is unavailable';

  const stream = chooseAttach('alert records', [
    { label: 'ring buffer', unavailable: () => (kernel.ringBuffer() ? null : 'needs Linux 5.8'), value: true },
    { label: 'perf buffer', unavailable: () => null, value: false },
  ]);
  attachments.push(stream.choice);
  const ringBuffer = stream.value;

  const fdOffsets = fdSocketOffsets(kernel);
  const pathOffsets = filePathOffsets(kernel);
  if ('missing' in fdOffsets || 'missing' in pathOffsets) {
    const missing = 'missing' in fdOffsets ? fdOffsets.missing : (pathOffsets as { missing: string }).missing;
    throw new MissingPrerequisite(`secwatch needs ${missing} from the kernel's BTF (/sys/kernel/btf/vmlinux) to resolve paths`);
  }
  const inodeOffset = kernel.offset('file', 'f_inode');
  const modeOffset = kernel.offset('inode', 'i_mode');
  const familyOffset = kernel.offset('sock_common', 'skc_family');
  if (inodeOffset === undefined || modeOffset === undefined || familyOffset === undefined) {
    throw new MissingPrerequisite("secwatch needs file.f_inode, inode.i_mode and sock_common.skc_family from the kernel's BTF");
  }

  const usesContainer = config.rules.some((r) => r.when.container !== undefined);
  const defines: Record<string, DefineValue> = {
    N_RULES: Math.max(config.rules.length, 1),
    ...Object.fromEntries(EVENT_KINDS.map((e) => [`WATCH_${e.toUpperCase()}`, hooked.has(e)])),
    HOOK_EXEC_RAW: exec?.kind === 'raw',
    ...(exec?.kind === 'raw' ? { BPRM_ARG: exec.bprmArg, BPRM_FILENAME_OFFSET: exec.filenameOffset, BPRM_INTERP_OFFSET: exec.interpOffset } : {}),
    BPRM_FILE_OFFSET: kernel.offset('linux_binprm', 'file') ?? 0,
    ...syscallDefines,
    USES_PCOMM: compiled.usesPcomm,
    USES_CONTAINER: usesContainer,
    FILTER_PID: config.pid !== undefined,
    TARGET_PID: config.pid ?? 0,
    HOST_MNTNS: hostMountNamespace(),
    DRY_RUN: config.dryRun === true,
    EMIT_RECORDS: config.events,
    LSM_DENY: lsmPlanned,
    ...taskParentOffsets(kernel),
    ...taskCommOffset(kernel),
    ...mountNamespaceOffsets(kernel),
    ...fdOffsets.defines,
    ...pathOffsets.defines,
    FILE_INODE_OFFSET: inodeOffset,
    INODE_MODE_OFFSET: modeOffset,
    SOCK_FAMILY_OFFSET: familyOffset,
    USE_RINGBUF: ringBuffer,
    // Alerts are rare, but one rule can fire in a loop (100,000 opens of a watched file): this
    // ring holds ~3,000 records; what a flood drops is counted and reported.
    ...(ringBuffer ? { RINGBUF_PAGES: burstRingBufferPages(kernel.cpus()) } : {}),
  };

  const program: SecwatchProgram = {
    file: 'secwatch.bpf.c',
    defines,
    attachments,
    ringBuffer,
    rules: config.rules,
    inactive,
    deny: denyEnforcement,
    populate(bpf: BPF) {
      writeRules(bpf, compiled, program.deny.lsm);
    },
    attach(bpf: BPF) {
      // Deny first: where the kernel refuses the LSM hooks, deny rules become kill rules before
      // any syscall hook can see an event.
      if (lsmPlanned) {
        try {
          for (const [event, hook] of Object.entries(LSM_HOOKS)) {
            if (hooked.has(event as EventKind)) bpf.attachLsm({ fnName: `lsm__${hook}` });
          }
          program.deny.lsm = true;
        } catch (err) {
          if (!isBpfError(err)) throw err;
          program.deny.fallback = err.message;
        }
      }
      bpf.table<ArrayTable<number>>('self_pid').set(0, config.self);
      program.populate(bpf);
      if (exec?.kind === 'raw') bpf.attachRawTracepoint({ tp: 'sched_process_exec', fnName: 'raw_tracepoint__sched_process_exec' });
      else if (exec) bpf.attachTracepoint({ tp: 'sched:sched_process_exec', fnName: 'tracepoint__sched__sched_process_exec' });
      // open's exits before its entries: no entry is noted whose exit could be missed.
      for (const { tp, fn } of tracepoints) bpf.attachTracepoint({ tp, fnName: fn });
    },
  };
  return program;
}

// ---- the rules as map entries: secwatch.bpf.c's struct rule_set, masks, path_key, comm_key ----

const RULE_SET_WORDS = 16 + 6 + 12 + 5;

/** The slots as secwatch.bpf.c's struct rule_set: one mask per condition, bit i for rule i. */
export function ruleSetBytes(slots: RuleSlot[], lsmAttached: boolean): Buffer {
  const words = new Array<bigint>(RULE_SET_WORDS).fill(0n);
  const [NEED_PATH, NEED_COMM, NEED_PCOMM, NEED_UID, NEED_VALUE, NEED_FLAGS] = [16, 17, 18, 19, 20, 21];
  const BY_FLAG = 22;
  const [CONTAINER_ONLY, HOST_ONLY, LSM_DENY, ACTING, PATH_COND] = [34, 35, 36, 37, 38];
  slots.forEach((slot, i) => {
    const bit = 1n << BigInt(i);
    words[slot.event] |= bit;
    if (slot.needPath) words[NEED_PATH] |= bit;
    if (slot.needComm) words[NEED_COMM] |= bit;
    if (slot.needPcomm) words[NEED_PCOMM] |= bit;
    if (slot.uids.length && !slot.uidNot) words[NEED_UID] |= bit;
    if (slot.values.length) words[NEED_VALUE] |= bit;
    if (slot.flagsAny) words[NEED_FLAGS] |= bit;
    for (let b = 0; b < 12; b++) if (slot.flagsAny & (1 << b)) words[BY_FLAG + b] |= bit;
    if (slot.container === 1) words[CONTAINER_ONLY] |= bit;
    if (slot.container === 2) words[HOST_ONLY] |= bit;
    // Without the LSM hooks a deny rule is enforced as kill, by the syscall hooks.
    if (slot.action === ACTIONS.indexOf('deny') && lsmAttached) words[LSM_DENY] |= bit;
    if (slot.action !== ACTIONS.indexOf('alert')) words[ACTING] |= bit;
    if (slot.pathCond) words[PATH_COND] |= bit;
  });
  const b = Buffer.alloc(RULE_SET_WORDS * 8);
  words.forEach((w, i) => b.writeBigUInt64LE(w, i * 8));
  return b;
}

/** uid → the rules listing it (uid) and the rules excepting it (uid_not). */
export function uidMasks(slots: RuleSlot[]): Map<number, RuleMasks> {
  const out = new Map<number, RuleMasks>();
  slots.forEach((slot, i) => {
    for (const uid of slot.uids) {
      const m = out.get(uid) ?? { include: 0n, exclude: 0n };
      if (slot.uidNot) m.exclude |= 1n << BigInt(i);
      else m.include |= 1n << BigInt(i);
      out.set(uid, m);
    }
  });
  return out;
}

/** (event, value) → the rules listing the value. */
export function valueMasks(slots: RuleSlot[]): Map<string, { event: number; value: number; include: bigint }> {
  const out = new Map<string, { event: number; value: number; include: bigint }>();
  slots.forEach((slot, i) => {
    for (const value of slot.values) {
      const key = `${slot.event}:${value}`;
      const m = out.get(key) ?? { event: slot.event, value, include: 0n };
      m.include |= 1n << BigInt(i);
      out.set(key, m);
    }
  });
  return out;
}

export function masksBytes(masks: RuleMasks): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(masks.include, 0);
  b.writeBigUInt64LE(masks.exclude, 8);
  return b;
}

/** An LPM trie key: the prefix length in bits, then the bytes. An exact entry includes the NUL. */
export function pathKeyBytes(path: string, exact: boolean): Buffer {
  const b = Buffer.alloc(4 + PATH_LEN);
  const bytes = Buffer.from(path, 'utf8');
  bytes.copy(b, 4, 0, Math.min(bytes.length, PATH_LEN - 1));
  b.writeUInt32LE((Math.min(bytes.length, PATH_LEN - 1) + (exact ? 1 : 0)) * 8, 0);
  return b;
}

export function commKeyBytes(comm: string): Buffer {
  const b = Buffer.alloc(16);
  Buffer.from(comm, 'utf8').copy(b, 0, 0, 15);
  return b;
}

function u32Key(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

function writeRules(bpf: BPF, compiled: KernelRules, lsmAttached: boolean): void {
  const paths = bpf.table('path_rules');
  for (const entry of compiled.paths) paths.set(pathKeyBytes(entry.path, entry.exact), masksBytes(entry));
  const comms = bpf.table('comm_rules');
  for (const [comm, masks] of compiled.comms) comms.set(commKeyBytes(comm), masksBytes(masks));
  if (compiled.usesPcomm) {
    const pcomms = bpf.table('pcomm_rules');
    for (const [comm, masks] of compiled.pcomms) pcomms.set(commKeyBytes(comm), masksBytes(masks));
  }
  const uids = bpf.table('uid_rules');
  for (const [uid, masks] of uidMasks(compiled.slots)) uids.set(u32Key(uid), masksBytes(masks));
  const values = bpf.table('value_rules');
  for (const m of valueMasks(compiled.slots).values()) values.set(u32Key(m.event, m.value), masksBytes({ include: m.include, exclude: 0n }));
  // Last: until the rule set is written, no event matches anything.
  bpf.table('rule_set').set(u32Key(0), ruleSetBytes(compiled.slots, lsmAttached));
}
