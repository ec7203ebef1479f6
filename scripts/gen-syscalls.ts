#!/usr/bin/env -S node --import tsx
// gen-syscalls: writes the x86_64 and arm64 syscall tables in lib/kernel/syscalls.ts (between its GENERATED
// markers) from the kernel's own syscall tables, and checks the running architecture's table against
// the running kernel's tracepoints.
//
// USAGE: node --import tsx scripts/gen-syscalls.ts [--tbl PATH] [--check]
//   --tbl PATH  for the x86_64 table, a kernel source's arch/x86/entry/syscalls/syscall_64.tbl
//               (best: the running kernel's)
//   --check     compare the rows with lib/kernel/syscalls.ts instead of writing it; exit 1 when they differ
//
// Both tables come from the kernel headers libbcc compiles with (the binding's findKernelHeaders()).
// x86_64, without --tbl: asm/unistd_64.h gives number → name, asm/syscalls_64.h number → entry point
// (only x86 headers have them). arm64: include/uapi/asm-generic/unistd.h gives both, read as arm64
// compiles it, with its #defines (ARM64_WANTS); every architecture's headers have that file. Headers
// can be older than the running kernel (here 6.12 headers for a 6.18 kernel), so the syscalls added
// since are listed below from the kernel's own tables, and every syscalls:sys_enter_* event the
// running kernel has must then resolve to a row of this architecture's table, or this fails: a
// kernel newer than both needs, on x86_64, --tbl with its own table, on arm64, its rows added below.
// The other architecture's table cannot be checked here; it comes from the same headers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findKernelHeaders, tracefsPath } from 'bcc-node-bindings';
import { syscalls } from '../lib/kernel/syscalls.ts';

type Row = [nr: number, name: string, entry: string];

// Rows of linux v6.18's arch/x86/entry/syscalls/syscall_64.tbl for syscalls newer than 6.12's headers.
const X86_64_NEWER_THAN_HEADERS = `
336	common	uprobe			sys_uprobe
463	common	setxattrat		sys_setxattrat
464	common	getxattrat		sys_getxattrat
465	common	listxattrat		sys_listxattrat
466	common	removexattrat		sys_removexattrat
467	common	open_tree_attr		sys_open_tree_attr
468	common	file_getattr		sys_file_getattr
469	common	file_setattr		sys_file_setattr
`;

// Rows of linux v6.18's scripts/syscall.tbl, the generic table arm64's is made from since 6.11, for
// syscalls newer than 6.12's headers (uretprobe and uprobe are x86-only).
const ARM64_NEWER_THAN_HEADERS = `
463	common	setxattrat			sys_setxattrat
464	common	getxattrat			sys_getxattrat
465	common	listxattrat			sys_listxattrat
466	common	removexattrat			sys_removexattrat
467	common	open_tree_attr			sys_open_tree_attr
468	common	file_getattr			sys_file_getattr
469	common	file_setattr			sys_file_setattr
`;

// What arm64 defines before including asm-generic/unistd.h: its arch/arm64/include/uapi/asm/unistd.h
// up to linux v6.10 (__ARCH_WANT_SYS_CLONE3 only matters to older headers, such as Debian 12's 6.1
// <asm-generic/unistd.h>, where clone3 was still conditional; TIME32 changes nothing on 64 bits).
// Since 6.11 that file only includes asm/unistd_64.h, generated from scripts/syscall.tbl with the
// ABIs "common 64 renameat rlimit memfd_secret" (arch/arm64/kernel/Makefile.syscalls), which selects
// the same syscalls: renameat, newfstatat and fstat, getrlimit and setrlimit, memfd_secret. An amd64
// headers package (as the 6.12 one here) has neither that generated header nor the makefile, so the
// list is written here rather than read.
export const ARM64_WANTS = [
  '__ARCH_WANT_RENAMEAT', '__ARCH_WANT_NEW_STAT', '__ARCH_WANT_SET_GET_RLIMIT',
  '__ARCH_WANT_TIME32_SYSCALLS', '__ARCH_WANT_SYS_CLONE3', '__ARCH_WANT_MEMFD_SECRET',
];

// Where arm64 calls its own implementation instead of the one the generic table names, which only
// the kernel source shows: arch/arm64/kernel/sys.c has "#define __arm64_sys_personality
// __arm64_sys_arm64_personality", so syscall 92 traces as syscalls:sys_enter_arm64_personality.
const ARM64_ENTRIES = new Map([['personality', 'arm64_personality']]);

const LIB = path.resolve(import.meta.dirname, '../lib/kernel/syscalls.ts');
const BEGIN = '// BEGIN GENERATED';
const END = '// END GENERATED';

/**
 * syscall_64.tbl (or scripts/syscall.tbl): "<nr> <abi> <name> [<entry point> [<compat entry>]]";
 * x32-only rows are skipped.
 */
export function parseTbl(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 3 || !/^\d+$/.test(fields[0]) || fields[1] === 'x32') continue;
    rows.push([Number(fields[0]), fields[2], entryName(fields[3])]);
  }
  return rows;
}

/** "sys_newstat" → "newstat"; no entry point, or sys_ni_syscall, → "" (reserved, not implemented). */
function entryName(symbol: string | undefined): string {
  if (!symbol || symbol === 'sys_ni_syscall') return '';
  return symbol.replace(/^(__x64_)?sys_/, '');
}

function x86FromHeaders(dir: string): Row[] {
  const unistd = fs.readFileSync(path.join(dir, 'arch/x86/include/generated/uapi/asm/unistd_64.h'), 'utf8');
  const entries = fs.readFileSync(path.join(dir, 'arch/x86/include/generated/asm/syscalls_64.h'), 'utf8');
  const entryByNr = new Map<number, string>();
  for (const m of entries.matchAll(/__SYSCALL(?:_\w+)?\((\d+),\s*(\w+)\)/g)) entryByNr.set(Number(m[1]), entryName(m[2]));
  const rows: Row[] = [];
  for (const m of unistd.matchAll(/#define __NR_(\w+)\s+(\d+)/g)) {
    if (m[1] === 'syscalls') continue; // the table's size, not a syscall
    rows.push([Number(m[2]), m[1], entryByNr.get(Number(m[2])) ?? '']);
  }
  return rows;
}

/**
 * asm-generic/unistd.h as a 64-bit kernel defining `wants` compiles it: "#define __NR_<name> <nr>"
 * then __SYSCALL(__NR_<name>, sys_<entry>) or another of the table macros, inside #if blocks. Some
 * numbers are defined as __NR3264_<x> and named at the end of the file, for 64 bits as
 * "#define __NR_fcntl __NR3264_fcntl" (and newfstatat, fstat, mmap...). A construct this does not
 * know throws, rather than being guessed at.
 */
export function parseGenericUnistd(text: string, wants: readonly string[]): Row[] {
  const defined = new Set(wants);
  const numbers = new Map<string, number>(); // __NR_read → 63, __NR3264_fcntl → 25
  const names = new Map<number, string>(); // 25 → fcntl
  const entries = new Map<number, string>();
  const taken: boolean[] = []; // per open #if: whether the branch we are in is compiled
  const active = () => taken.every(Boolean);
  const define = (macro: string) => {
    const [, name, value] = /^(\w+)\s*(.*)$/.exec(macro)!;
    defined.add(name);
    if (name === '__NR_syscalls' || !/^__NR(3264)?_/.test(name)) return; // __NR_syscalls: the table's size
    const nr = /^\d+$/.test(value) ? Number(value) : numbers.get(value);
    if (nr === undefined) return;
    numbers.set(name, nr);
    if (name.startsWith('__NR_')) names.set(nr, name.slice('__NR_'.length));
  };

  const lines = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\\\n/g, ' ').split('\n');
  for (const line of lines) {
    const directive = /^\s*#\s*(\w+)\s*(.*?)\s*$/.exec(line);
    if (directive) {
      const [, keyword, rest] = directive;
      if (keyword === 'if') taken.push(evaluate(rest, defined));
      else if (keyword === 'ifdef') taken.push(defined.has(rest));
      else if (keyword === 'ifndef') taken.push(!defined.has(rest));
      else if (keyword === 'else') taken.push(!taken.pop());
      else if (keyword === 'endif') taken.pop();
      else if (keyword === 'define') { if (active()) define(rest); }
      else if (keyword === 'undef') { if (active()) defined.delete(rest); }
      else if (keyword !== 'include') throw new Error(`gen-syscalls: unexpected #${keyword} in asm-generic/unistd.h`);
      continue;
    }
    const call = /^\s*(__SYSCALL|__SC_COMP|__SC_3264|__SC_COMP_3264)\((.*)\)\s*$/.exec(line);
    if (!call || !active()) continue;
    const args = call[2].split(',').map((a) => a.trim());
    const nr = numbers.get(args[0]);
    if (nr === undefined) throw new Error(`gen-syscalls: ${args[0]} is used before it has a number`);
    // (nr, entry[, compat entry]) or, for the *_3264 macros, (nr, 32-bit entry, 64-bit entry[, compat])
    entries.set(nr, entryName(args[call[1].endsWith('3264') ? 2 : 1]));
  }
  return [...entries].sort((a, b) => a[0] - b[0]).map(([nr, entry]): Row => {
    const name = names.get(nr);
    if (!name) throw new Error(`gen-syscalls: syscall ${nr} (${entry}) has no __NR_ name`);
    return [nr, name, entry];
  });
}

/** An #if of that file: || of && of defined(X), !defined(X) and __BITS_PER_LONG ==/!= N, for 64 bits. */
function evaluate(condition: string, defined: ReadonlySet<string>): boolean {
  return condition.split('||').some((all) => all.split('&&').every((term) => {
    const isDefined = /^(!?)\s*defined\s*\(?\s*(\w+)\s*\)?$/.exec(term.trim());
    if (isDefined) return defined.has(isDefined[2]) !== (isDefined[1] === '!');
    const bits = /^__BITS_PER_LONG\s*([=!]=)\s*(\d+)$/.exec(term.trim());
    if (bits) return (Number(bits[2]) === 64) === (bits[1] === '==');
    throw new Error(`gen-syscalls: cannot evaluate "#if ${condition}" in asm-generic/unistd.h`);
  }));
}

/** Adds the newer rows where the base table has no number, or only a reserved one. */
function merge(base: Row[], newer: Row[]): Row[] {
  const byNr = new Map(base.map((r) => [r[0], r]));
  for (const row of newer) {
    const have = byNr.get(row[0]);
    if (!have || !have[2]) byNr.set(row[0], row);
  }
  return [...byNr.values()].sort((a, b) => a[0] - b[0]);
}

/** The running kernel's syscall tracepoints, by entry name ("newstat" for sys_enter_newstat). */
export function kernelSyscallEvents(): string[] {
  const root = tracefsPath();
  if (!root) throw new Error('tracefs is not mounted: cannot check the table against the running kernel');
  return fs.readdirSync(path.join(root, 'events/syscalls'))
    .filter((e) => e.startsWith('sys_enter_'))
    .map((e) => e.slice('sys_enter_'.length))
    .sort();
}

interface Table { arch: NodeJS.Architecture; constant: string; rows: Row[]; source: string }

function render(tables: Table[], events: string[]): string {
  const lines = [`${BEGIN} by scripts/gen-syscalls.ts: do not edit by hand.`];
  for (const { arch, constant, rows, source } of tables) {
    if (lines.length > 1) lines.push('');
    lines.push(
      `// Source: ${source}.`,
      arch === process.arch
        ? `// Checked against kernel ${os.release()}: all ${events.length} syscalls:sys_enter_* events resolve to a row.`
        : `// Not checked against a running kernel: generated on ${process.arch}.`,
      `const ${constant}: readonly Row[] = [`,
      ...rows.map(([nr, name, entry]) => `  [${nr}, '${name}'${entry === name ? '' : `, '${entry}'`}],`),
      '];',
    );
  }
  lines.push(END);
  return lines.join('\n');
}

function main(argv: string[]): number {
  // Only the running architecture's table can be checked against its kernel, and one of them must be.
  if (process.arch !== 'x64' && process.arch !== 'arm64') {
    process.stderr.write(`gen-syscalls: only the x86_64 and arm64 tables can be generated so far (this is ${process.arch})\n`);
    return 2;
  }
  const headers = findKernelHeaders();
  if (!headers || headers.source === 'kheaders') {
    process.stderr.write('gen-syscalls: no unpacked kernel headers (run `make deps`)\n');
    return 2;
  }

  const tblAt = argv.indexOf('--tbl');
  let x86: Table;
  if (tblAt >= 0) {
    const file = argv[tblAt + 1];
    if (!file) { process.stderr.write('gen-syscalls: --tbl needs a path\n'); return 2; }
    const rows = parseTbl(fs.readFileSync(file, 'utf8')).sort((a, b) => a[0] - b[0]);
    x86 = { arch: 'x64', constant: 'X86_64', rows, source: `${path.basename(file)} given to the generator` };
  } else if (!fs.existsSync(path.join(headers.path, 'arch/x86/include/generated'))) {
    // Another architecture's headers (arm64's) cannot make the x86_64 table: it stays as it is, so
    // that --check on that machine checks the table it can.
    const rows = syscalls('x64').map((s): Row => [s.nr, s.name, s.entry ?? '']);
    x86 = { arch: 'x64', constant: 'X86_64', rows, source: 'kept as it was (these headers are not x86\'s; --tbl remakes it)' };
  } else {
    const newer = parseTbl(X86_64_NEWER_THAN_HEADERS);
    x86 = {
      arch: 'x64', constant: 'X86_64', rows: merge(x86FromHeaders(headers.path), newer),
      source: `kernel headers ${headers.release} (asm/unistd_64.h, asm/syscalls_64.h) plus ${newer.length} newer rows from linux v6.18's syscall_64.tbl`,
    };
  }
  const generic = fs.readFileSync(path.join(headers.path, 'include/uapi/asm-generic/unistd.h'), 'utf8');
  const arm64Newer = parseTbl(ARM64_NEWER_THAN_HEADERS);
  const arm64Rows = parseGenericUnistd(generic, ARM64_WANTS)
    .map(([nr, name, entry]): Row => [nr, name, ARM64_ENTRIES.get(name) ?? entry]);
  const arm64: Table = {
    arch: 'arm64', constant: 'ARM64', rows: merge(arm64Rows, arm64Newer),
    source: `kernel headers ${headers.release} (asm-generic/unistd.h with arm64's #defines; arm64's sys.c for personality) plus ${arm64Newer.length} newer rows from linux v6.18's scripts/syscall.tbl`,
  };
  const tables = [x86, arm64];

  const events = kernelSyscallEvents();
  const entries = new Set(tables.find((t) => t.arch === process.arch)!.rows.map((r) => r[2]).filter(Boolean));
  const missing = events.filter((e) => !entries.has(e));
  if (missing.length) {
    const fix = process.arch === 'x64'
      ? 'pass --tbl with this kernel\'s arch/x86/entry/syscalls/syscall_64.tbl'
      : 'add this kernel\'s rows of scripts/syscall.tbl to ARM64_NEWER_THAN_HEADERS';
    process.stderr.write(`gen-syscalls: the running kernel traces syscalls the table lacks: ${missing.join(', ')} (${fix})\n`);
    return 1;
  }

  const current = fs.readFileSync(LIB, 'utf8');
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin < 0 || end < begin) { process.stderr.write(`gen-syscalls: no GENERATED markers in ${LIB}\n`); return 1; }
  const next = current.slice(0, begin) + render(tables, events) + current.slice(end + END.length);
  if (argv.includes('--check')) {
    // The rows of both tables must match; the comments naming the kernel it was generated on may differ.
    const rowsOnly = (text: string) => text.split('\n').filter((line) => !line.startsWith('// ')).join('\n');
    const same = rowsOnly(next) === rowsOnly(current);
    process.stdout.write(same ? 'lib/kernel/syscalls.ts is up to date\n' : 'lib/kernel/syscalls.ts differs from a fresh generation\n');
    return same ? 0 : 1;
  }
  fs.writeFileSync(LIB, next);
  process.stdout.write(`wrote ${x86.rows.length} x86_64 and ${arm64.rows.length} arm64 syscalls to lib/kernel/syscalls.ts ` +
    `(${events.length} kernel syscall events, all named in the ${process.arch} table)\n`);
  return 0;
}

if (import.meta.filename === fs.realpathSync(process.argv[1] ?? '')) process.exitCode = main(process.argv.slice(2));
