// secwatch's two ends of the kernel program: the records it sends (events.ts decodeAlertRecord,
// built byte by byte from secwatch.bpf.c's struct alert_record), the map entries the rules become
// (program.ts: struct rule_set, struct masks, struct path_key, struct comm_key), and the plan
// configureSecwatch makes on stand-in kernels (which hooks, which events are watched, deny).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BpfError, type BPF } from 'bcc-node-bindings';
import type { KernelView } from '../../lib/kernel/view.ts';
import { ALERT_RECORD_SIZE, SYSCALL_NAMES, decodeAlertRecord } from '../../tools/secwatch/events.ts';
import {
  commKeyBytes, configureSecwatch, masksBytes, pathKeyBytes, ruleSetBytes, uidMasks, valueMasks, type SecwatchConfig,
} from '../../tools/secwatch/program.ts';
import { loadRules } from '../../tools/secwatch/rules.ts';
import { EVENT_KINDS, PATH_LEN, type EventKind, type RuleSlot } from '../../tools/secwatch/model.ts';
import { fakeKernel, type FakeKernel } from '../helpers/kernel-view.ts';

// ---- records: struct alert_record, 640 bytes ----

interface RecordFields {
  ts?: bigint; matched?: bigint; acted?: bigint; heldBack?: bigint;
  kind: EventKind; syscall: (typeof SYSCALL_NAMES)[number];
  pid?: number; tid?: number; ppid?: number; uid?: number;
  flags?: number; value?: number; value2?: number; inContainer?: boolean; truncated?: boolean;
  addr?: number[]; comm?: string; pcomm?: string; path?: string; path2?: string;
}

/** A record laid out as secwatch.bpf.c's struct alert_record (offsets in its field order). */
function record(r: RecordFields): Buffer {
  const b = Buffer.alloc(ALERT_RECORD_SIZE);
  b.writeBigUInt64LE(r.ts ?? 123_456_789n, 0);
  b.writeBigUInt64LE(r.matched ?? 1n, 8);
  b.writeBigUInt64LE(r.acted ?? 0n, 16);
  b.writeBigUInt64LE(r.heldBack ?? 0n, 24);
  b.writeUInt32LE(EVENT_KINDS.indexOf(r.kind), 32);
  b.writeUInt32LE(SYSCALL_NAMES.indexOf(r.syscall), 36);
  b.writeUInt32LE(r.pid ?? 4242, 40);
  b.writeUInt32LE(r.tid ?? 4243, 44);
  b.writeUInt32LE(r.ppid ?? 1, 48);
  b.writeUInt32LE(r.uid ?? 1000, 52);
  b.writeUInt32LE(r.flags ?? 0, 56);
  b.writeUInt32LE(r.value ?? 0, 60);
  b.writeUInt32LE(r.value2 ?? 0, 64);
  b.writeUInt32LE(r.inContainer ? 1 : 0, 68);
  b.writeUInt32LE(r.truncated ? 1 : 0, 72);
  Buffer.from(r.addr ?? []).copy(b, 80);
  b.write(r.comm ?? 'cat', 96);
  b.write(r.pcomm ?? 'bash', 112);
  b.write(r.path ?? '', 128);
  b.write(r.path2 ?? '', 384);
  return b;
}

const PROCESS = { ts: 123_456_789n, pid: 4242, tid: 4243, ppid: 1, uid: 1000, comm: 'cat', pcomm: 'bash', inContainer: false };

test('the record is 640 bytes: 24 words of header, addr at 80, comm 96, pcomm 112, path 128, path2 384', () => {
  assert.equal(ALERT_RECORD_SIZE, 640);
  assert.equal(128 + 2 * PATH_LEN, ALERT_RECORD_SIZE);
});

test('exec: the process, the rule bits, the file run; nothing of another kind', () => {
  const ev = decodeAlertRecord(record({ kind: 'exec', syscall: 'execve', matched: 0b1010n, acted: 0b10n, comm: 'x', path: '/dev/shm/x' }));
  assert.deepEqual(ev, {
    ...PROCESS, comm: 'x', kind: 'exec', syscall: 'execve', matched: 0b1010n, acted: 0b10n, heldBack: 0n, path: '/dev/shm/x',
  });
});

test('open: flags as passed, in a container, the path cut at its start', () => {
  const ev = decodeAlertRecord(record({
    kind: 'open', syscall: 'openat', flags: 0o1101, inContainer: true, truncated: true, heldBack: 4n, path: '/etc/shadow',
  }));
  assert.deepEqual(ev, {
    ...PROCESS, kind: 'open', syscall: 'openat', matched: 1n, acted: 0n, heldBack: 4n, inContainer: true,
    path: '/etc/shadow', pathTruncated: true, flags: 0o1101,
  });
});

test('chmod: the mode in flags; truncate and module: the path only', () => {
  const chmod = decodeAlertRecord(record({ kind: 'chmod', syscall: 'fchmodat2', flags: 0o4755, path: '/tmp/f' }));
  assert.deepEqual([chmod.kind, chmod.syscall, chmod.flags, chmod.path], ['chmod', 'fchmodat2', 0o4755, '/tmp/f']);
  const truncate = decodeAlertRecord(record({ kind: 'truncate', syscall: 'ftruncate', flags: 7, value: 9, path: '/var/log/syslog' }));
  assert.deepEqual(truncate, { ...PROCESS, kind: 'truncate', syscall: 'ftruncate', matched: 1n, acted: 0n, heldBack: 0n, path: '/var/log/syslog' });
  const module = decodeAlertRecord(record({ kind: 'module', syscall: 'init_module' }));
  assert.deepEqual([module.kind, module.syscall, module.path, module.flags], ['module', 'init_module', '', undefined]);
});

test('link: the existing file as path, the new name as linkPath', () => {
  const ev = decodeAlertRecord(record({ kind: 'link', syscall: 'symlinkat', path: '/etc/shadow', path2: 'bpfkit-link' }));
  assert.deepEqual([ev.kind, ev.syscall, ev.path, ev.linkPath, ev.flags], ['link', 'symlinkat', '/etc/shadow', 'bpfkit-link', undefined]);
});

test('connect: port, and the address by family (IPv4, IPv6 with "::" for the longest zero run, other families none)', () => {
  const v4 = decodeAlertRecord(record({ kind: 'connect', syscall: 'connect', value: 443, value2: 2, addr: [192, 0, 2, 10] }));
  assert.deepEqual([v4.kind, v4.port, v4.addr, v4.path], ['connect', 443, '192.0.2.10', '']);
  const v6 = (bytes: number[]) => decodeAlertRecord(record({ kind: 'connect', syscall: 'connect', value: 53, value2: 10, addr: bytes })).addr;
  assert.equal(v6([...Array(15).fill(0), 1]), '::1');
  assert.equal(v6(Array(16).fill(0)), '::');
  assert.equal(v6([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]), '2001:db8::1');
  assert.equal(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), '2001:db8:0:1::1');
  // One zero group alone is not shortened (RFC 5952 4.2.2).
  assert.equal(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5]), '2001:db8:0:1:2:3:4:5');
  const unix = decodeAlertRecord(record({ kind: 'connect', syscall: 'connect', value: 0, value2: 1 }));
  assert.equal(unix.addr, '');
});

test('ptrace: request and target; dup: new and old fd; bpf: the program type', () => {
  const ptrace = decodeAlertRecord(record({ kind: 'ptrace', syscall: 'ptrace', value: 0x4206, value2: 777 }));
  assert.deepEqual([ptrace.request, ptrace.targetPid], [0x4206, 777]);
  const dup = decodeAlertRecord(record({ kind: 'dup', syscall: 'dup3', value: 1, value2: 5, flags: 0o2000000 }));
  assert.deepEqual([dup.syscall, dup.fd, dup.oldFd, dup.flags], ['dup3', 1, 5, undefined]);
  const bpf = decodeAlertRecord(record({ kind: 'bpf', syscall: 'bpf', value: 5 }));
  assert.deepEqual([bpf.kind, bpf.progType], ['bpf', 5]);
});

test('strings fill their field without a NUL; an unknown syscall number is shown as the number', () => {
  const b = record({ kind: 'exec', syscall: 'execve' });
  b.write('a-very-long-comm', 96);   // 16 bytes, no NUL: pcomm follows
  b.writeUInt32LE(99, 36);
  const ev = decodeAlertRecord(b);
  assert.deepEqual([ev.comm, ev.pcomm, ev.syscall], ['a-very-long-comm', 'bash', '99']);
});

// ---- the rules as map entries ----

const slot = (s: Partial<RuleSlot> & { event: number }): RuleSlot => ({
  needPath: false, pathCond: false, needComm: false, needPcomm: false, flagsAny: 0, container: 0, action: 0, uids: [], uidNot: false, values: [], ...s,
});

/** struct rule_set's u64 words: by_event[16], need_path, need_comm, need_pcomm, need_uid, need_value, need_flags, by_flag[12], container_only, host_only, lsm_deny, acting, path_cond. */
function words(b: Buffer): bigint[] {
  return Array.from({ length: b.length / 8 }, (_, i) => b.readBigUInt64LE(i * 8));
}

test('ruleSetBytes: struct rule_set, 39 words, bit i for rule i in every mask that holds for it', () => {
  const slots = [
    slot({ event: 1, needPath: true, pathCond: true, needComm: true, flagsAny: 1 | 8 }),      // open, read or trunc
    slot({ event: 5, needPcomm: true, flagsAny: 0o4000 | 0o2000, container: 1, action: 1 }),  // chmod setuid/setgid, kill
    slot({ event: 2, uids: [0], values: [22], container: 2, action: 2 }),                       // connect, deny
    slot({ event: 1, uids: [1000], uidNot: true }),                                             // uid_not needs no uid
  ];
  const w = words(ruleSetBytes(slots, true));
  assert.equal(w.length, 39);
  const expected = new Array<bigint>(39).fill(0n);
  expected[1] = 0b1001n;      // by_event[open]
  expected[5] = 0b0010n;      // by_event[chmod]
  expected[2] = 0b0100n;      // by_event[connect]
  expected[16] = 0b0001n;     // need_path
  expected[17] = 0b0001n;     // need_comm
  expected[18] = 0b0010n;     // need_pcomm
  expected[19] = 0b0100n;     // need_uid
  expected[20] = 0b0100n;     // need_value
  expected[21] = 0b0011n;     // need_flags
  expected[22 + 0] = 0b0001n; // by_flag[OPEN_READ]
  expected[22 + 3] = 0b0001n; // by_flag[OPEN_TRUNC]
  expected[22 + 10] = 0b0010n; // by_flag[S_ISGID]
  expected[22 + 11] = 0b0010n; // by_flag[S_ISUID]
  expected[34] = 0b0010n;     // container_only
  expected[35] = 0b0100n;     // host_only
  expected[36] = 0b0100n;     // lsm_deny
  expected[37] = 0b0110n;     // acting
  expected[38] = 0b0001n;     // path_cond
  assert.deepEqual(w, expected);
  // Without the LSM hooks, the deny rule is the syscall hooks' to enforce (a kill): not in lsm_deny.
  const noLsm = words(ruleSetBytes(slots, false));
  assert.deepEqual([noLsm[36], noLsm[37]], [0n, 0b0110n]);
  assert.deepEqual(words(ruleSetBytes([], false)), new Array<bigint>(39).fill(0n));
});

test('rule 63 is the top bit of a u64', () => {
  const slots = Array.from({ length: 64 }, (_, i) => slot({ event: i === 63 ? 9 : 0 }));
  const w = words(ruleSetBytes(slots, false));
  assert.deepEqual([w[0], w[9]], [(1n << 63n) - 1n, 1n << 63n]);
});

test('uidMasks: include for uid, exclude for uid_not, several rules on one uid', () => {
  const m = uidMasks([slot({ event: 0, uids: [0, 1000] }), slot({ event: 1 }), slot({ event: 1, uids: [1000], uidNot: true }), slot({ event: 2, uids: [0] })]);
  assert.deepEqual(m, new Map([[0, { include: 0b1001n, exclude: 0n }], [1000, { include: 0b0001n, exclude: 0b0100n }]]));
});

test('valueMasks: keyed by event and value, so a port and an fd of the same number stay apart', () => {
  const m = valueMasks([slot({ event: 2, values: [22, 443] }), slot({ event: 7, values: [0, 1, 2] }), slot({ event: 2, values: [22] })]);
  assert.deepEqual([...m.values()], [
    { event: 2, value: 22, include: 0b101n }, { event: 2, value: 443, include: 0b001n },
    { event: 7, value: 0, include: 0b010n }, { event: 7, value: 1, include: 0b010n }, { event: 7, value: 2, include: 0b010n },
  ]);
});

test('masksBytes: struct masks, include then exclude, little-endian u64s', () => {
  const b = masksBytes({ include: 1n << 63n | 5n, exclude: 2n });
  assert.equal(b.length, 16);
  assert.deepEqual([b.readBigUInt64LE(0), b.readBigUInt64LE(8)], [1n << 63n | 5n, 2n]);
});

test('pathKeyBytes: struct path_key, prefix length in bits (the NUL counted for an exact path), the bytes after', () => {
  const prefix = pathKeyBytes('/etc/', false);
  assert.equal(prefix.length, 4 + PATH_LEN);
  assert.equal(prefix.readUInt32LE(0), 5 * 8);
  assert.equal(prefix.subarray(4, 10).toString('latin1'), '/etc/\0');
  const exact = pathKeyBytes('/etc/shadow', true);
  assert.equal(exact.readUInt32LE(0), 12 * 8);
  assert.equal(exact.subarray(4, 16).toString('latin1'), '/etc/shadow\0');
  // UTF-8 bytes are counted, not characters.
  assert.equal(pathKeyBytes('/tmp/é', false).readUInt32LE(0), 7 * 8);
  // The key never exceeds the kernel's buffer: 255 bytes and the NUL.
  const long = pathKeyBytes(`/${'a'.repeat(400)}`, true);
  assert.deepEqual([long.length, long.readUInt32LE(0), long[4 + PATH_LEN - 1]], [4 + PATH_LEN, PATH_LEN * 8, 0]);
});

test('commKeyBytes: struct comm_key, 16 bytes, at most 15 of the name and a NUL', () => {
  assert.deepEqual(commKeyBytes('cat'), Buffer.from('cat\0\0\0\0\0\0\0\0\0\0\0\0\0', 'latin1'));
  const cut = commKeyBytes('update-alternatives');
  assert.deepEqual([cut.length, cut.subarray(0, 15).toString(), cut[15]], [16, 'update-alternat', 0]);
});

// ---- configureSecwatch on stand-in kernels ----

/** Every BTF offset answered (the plan only needs them to exist); the VM's 6.18 otherwise. */
const kernel = (overrides: FakeKernel = {}): KernelView => fakeKernel({ offset: () => 8, ...overrides });
const config = (rules = loadRules()): SecwatchConfig => ({ rules, events: true, self: 1234 });
const WATCH = (defines: Record<string, unknown>) => EVENT_KINDS.filter((e) => defines[`WATCH_${e.toUpperCase()}`] === true);

test('only the events some rule watches get their hooks (WATCH_* true), and only theirs', () => {
  const p = configureSecwatch(config(loadRules({ only: ['sensitive-read', 'ptrace-attach'] })), kernel());
  const d = p.defines!;
  assert.deepEqual(WATCH(d), ['open', 'ptrace']);
  for (const e of EVENT_KINDS) assert.equal(typeof d[`WATCH_${e.toUpperCase()}`], 'boolean');
  assert.deepEqual(p.attachments.map((a) => a.chosen), [
    'tracepoints syscalls:sys_enter/exit_{open,openat,openat2,creat}',
    'tracepoints syscalls:sys_enter_{ptrace}',
    'ring buffer',
  ]);
  assert.deepEqual([d.HAS_OPEN, d.HAS_OPENAT, d.HAS_OPENAT2, d.HAS_CREAT, d.HAS_PTRACE, d.HAS_CHMOD], [true, true, true, true, true, undefined]);
  assert.deepEqual([d.HOOK_EXEC_RAW, d.N_RULES, d.SELF_TGID, d.LSM_DENY, d.DRY_RUN, d.EMIT_RECORDS, d.USES_PCOMM], [false, 2, undefined, false, false, true, false]);
  assert.deepEqual(p.inactive, []);
});

test('hooks per event: exec on the raw tracepoint with linux_binprm from BTF, else the tracepoint; open at entry and exit, exits first', () => {
  const rules = loadRules({ only: ['shm-exec', 'write-etc', 'socket-stdio', 'setuid-bit'] });
  const p = configureSecwatch(config(rules), kernel());
  assert.deepEqual(WATCH(p.defines!), ['exec', 'open', 'chmod', 'dup']);
  assert.deepEqual([p.defines!.HOOK_EXEC_RAW, p.defines!.BPRM_ARG], [true, 0]);
  assert.equal(p.attachments[0].chosen, 'raw tracepoint sched_process_exec (the file run, its path resolved in the kernel)');
  const calls: string[] = [];
  const tables = new Set<string>();
  const bpf = {
    table: (name: string) => { tables.add(name); return { set: () => undefined }; },
    attachRawTracepoint: ({ tp }: { tp: string }) => { calls.push(`raw ${tp}`); },
    attachTracepoint: ({ tp }: { tp: string }) => { calls.push(tp); },
    attachLsm: () => { throw new Error('no deny rule: no LSM hook'); },
  };
  p.attach(bpf as unknown as BPF);
  assert.deepEqual(calls, [
    'raw sched_process_exec',
    'syscalls:sys_exit_open', 'syscalls:sys_enter_open', 'syscalls:sys_exit_openat', 'syscalls:sys_enter_openat',
    'syscalls:sys_exit_openat2', 'syscalls:sys_enter_openat2', 'syscalls:sys_exit_creat', 'syscalls:sys_enter_creat',
    'syscalls:sys_enter_chmod', 'syscalls:sys_enter_fchmodat', 'syscalls:sys_enter_fchmodat2', 'syscalls:sys_enter_fchmod',
    'syscalls:sys_enter_dup2', 'syscalls:sys_enter_dup3',
  ]);
  assert.deepEqual([...tables].sort(), ['comm_rules', 'path_rules', 'rule_set', 'self_pid', 'uid_rules', 'value_rules']);

  const noRaw = configureSecwatch(config(rules), kernel({ rawTracepoints: () => false }));
  assert.deepEqual([noRaw.defines!.HOOK_EXEC_RAW, noRaw.defines!.BPRM_ARG], [false, undefined]);
  assert.equal(noRaw.attachments[0].chosen, 'tracepoint sched:sched_process_exec (the name exec was given, resolved from the working directory)');
  assert.equal(noRaw.attachments[0].rejected[0].reason, 'needs Linux 4.17');
});

test('a syscall the kernel lacks is left out; open without an exit tracepoint is not hooked at all', () => {
  const rules = loadRules({ only: ['write-etc', 'setuid-bit'] });
  const p = configureSecwatch(config(rules), kernel({ missing: ['sys_enter_fchmodat2', 'sys_exit_openat2'] }));
  assert.deepEqual([p.defines!.HAS_OPENAT2, p.defines!.HAS_FCHMODAT2, p.defines!.HAS_FCHMODAT], [undefined, undefined, true]);
  assert.equal(p.attachments[1].chosen, 'tracepoints syscalls:sys_enter_{chmod,fchmodat,fchmod}');
});

test('module: inactive where there are no module tracepoints and no /proc/modules, else refused', () => {
  const noModuleTracepoints = kernel({ missing: ['sys_enter_init_module', 'sys_enter_finit_module'] });
  const rules = loadRules({ only: ['module-load', 'shm-exec'] });
  if (fs.existsSync('/proc/modules')) {
    // A kernel that loads modules yet has no tracepoints for the calls cannot watch them.
    assert.throws(() => configureSecwatch(config(rules), noModuleTracepoints), /no way to trace module \(init_module, finit_module\) on this kernel/);
  } else {
    const p = configureSecwatch(config(rules), noModuleTracepoints);
    assert.deepEqual(p.inactive.map((i) => [i.rule.id, i.reason]), [
      ['module-load', 'nothing to watch: this kernel cannot load modules (CONFIG_MODULES is off; both calls return ENOSYS)'],
    ]);
    assert.deepEqual(WATCH(p.defines!), ['exec']);
    assert.equal(p.defines!.HAS_INIT_MODULE, undefined);
  }
  // With the tracepoints, the calls are hooked wherever /proc/modules is.
  const hooked = configureSecwatch(config(rules), kernel());
  assert.deepEqual([hooked.inactive, WATCH(hooked.defines!), hooked.defines!.HAS_INIT_MODULE, hooked.defines!.HAS_FINIT_MODULE], [[], ['exec', 'module'], true, true]);
});

test('deny: without trampolines (kernel.fentry() false) it falls back to kill, says why, and compiles no LSM hook', () => {
  const rules = loadRules({ only: ['shm-exec', 'sensitive-read'], deny: ['shm-exec'] });
  const p = configureSecwatch(config(rules), kernel());
  assert.equal(p.defines!.LSM_DENY, false);
  assert.equal(p.deny.lsm, false);
  assert.ok(p.deny.fallback, 'a reason for the fallback');
  const plan = p.attachments.find((a) => a.purpose.startsWith('deny'))!;
  assert.equal(plan.chosen, 'SIGKILL at the syscall hooks instead (the call completes; the process runs no further instruction)');
  assert.equal(plan.rejected[0].reason, p.deny.fallback);
  // The deny rule is then a kill rule in the kernel: acting, not lsm_deny.
  let ruleSet: Buffer | undefined;
  const bpf = { table: (name: string) => ({ set: (_k: Buffer, v: Buffer) => { if (name === 'rule_set') ruleSet = v; } }) };
  p.populate(bpf as unknown as BPF);
  const w = words(ruleSet!);
  assert.deepEqual([w[36], w[37]], [0n, 0b10n]);   // rule order is the file's: sensitive-read, then shm-exec

  let lsms: string | null = null;
  try { lsms = fs.readFileSync('/sys/kernel/security/lsm', 'utf8'); } catch { /* not mounted: the load decides */ }
  const withTrampolines = configureSecwatch(config(rules), kernel({ fentry: () => true }));
  if (lsms === null || lsms.split(',').includes('bpf')) {
    assert.deepEqual([withTrampolines.defines!.LSM_DENY, withTrampolines.deny.fallback], [true, undefined]);
    assert.equal(withTrampolines.attachments.find((a) => a.purpose.startsWith('deny'))!.chosen,
      'BPF LSM hooks lsm/bprm_check_security, lsm/file_open, lsm/socket_connect');
  } else {
    assert.match(withTrampolines.deny.fallback!, /"bpf" is not in lsm=/);
  }
  // No deny rule: no deny plan at all.
  assert.equal(configureSecwatch(config(loadRules({ only: ['shm-exec'] })), kernel()).attachments.some((a) => a.purpose.startsWith('deny')), false);
});

test('where the LSM attach is refused at load time, attach() turns deny into kill before writing the rules', () => {
  const rules = loadRules({ only: ['shm-exec'], deny: ['shm-exec'] });
  const p = configureSecwatch(config(rules), kernel({ fentry: () => true }));
  if (p.defines!.LSM_DENY !== true) return;   // this machine's lsm= has no bpf: the plan already fell back
  let ruleSet: Buffer | undefined;
  const bpf = {
    table: (name: string) => ({ set: (_k: Buffer, v: Buffer) => { if (name === 'rule_set') ruleSet = v; } }),
    attachLsm: () => { throw new BpfError('ATTACH', 'attach lsm/bprm_check_security: Permission denied'); },
    attachRawTracepoint: () => undefined,
    attachTracepoint: () => undefined,
  };
  p.attach(bpf as unknown as BPF);
  assert.deepEqual([p.deny.lsm, p.deny.fallback], [false, 'attach lsm/bprm_check_security: Permission denied']);
  assert.deepEqual(words(ruleSet!).slice(36, 38), [0n, 1n]);
});

test('no syscall tracepoints: refused with a reason', () => {
  assert.throws(() => configureSecwatch(config(), kernel({ missing: ['sys_enter_openat'] })), /CONFIG_FTRACE_SYSCALLS/);
});

test('-p, --dry-run, the exporter (no records), container rules, parent comms and a perf buffer become defines', () => {
  const rules = loadRules({ only: ['shell-by-server'] });
  const d = configureSecwatch({ rules, events: false, self: 9, pid: 181, dryRun: true }, kernel({ ringBuffer: () => false })).defines!;
  assert.deepEqual([d.FILTER_PID, d.TARGET_PID, d.DRY_RUN, d.EMIT_RECORDS, d.USES_PCOMM, d.USE_RINGBUF, d.RINGBUF_PAGES, d.USES_CONTAINER],
    [true, 181, true, false, true, false, undefined, false]);
});
