#!/usr/bin/env -S node --import tsx
// gen-syscalls: writes the x86_64 syscall table in lib/syscalls.ts (between its GENERATED markers)
// from the kernel's own syscall table, and checks it against the running kernel's tracepoints.
//
// USAGE: node --import tsx scripts/gen-syscalls.ts [--tbl PATH] [--check]
//   --tbl PATH  a kernel source's arch/x86/entry/syscalls/syscall_64.tbl (best: the running kernel's)
//   --check     compare the rows with lib/syscalls.ts instead of writing it; exit 1 when they differ
//
// Without --tbl the table comes from the kernel headers libbcc compiles with (the binding's
// findKernelHeaders()): asm/unistd_64.h gives number → name, asm/syscalls_64.h number → entry
// point. Headers can be older than the running kernel (here 6.12 headers for a 6.18 kernel), so
// the syscalls added since are listed below from the kernel's syscall_64.tbl, and every
// syscalls:sys_enter_* event the running kernel has must then resolve to a row, or this fails:
// a kernel newer than both needs --tbl with its own table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findKernelHeaders, tracefsPath } from 'bcc-node-bindings';

type Row = [nr: number, name: string, entry: string];

// Rows of linux v6.18's arch/x86/entry/syscalls/syscall_64.tbl for syscalls newer than 6.12's headers.
const NEWER_THAN_HEADERS = `
336	common	uprobe			sys_uprobe
463	common	setxattrat		sys_setxattrat
464	common	getxattrat		sys_getxattrat
465	common	listxattrat		sys_listxattrat
466	common	removexattrat		sys_removexattrat
467	common	open_tree_attr		sys_open_tree_attr
468	common	file_getattr		sys_file_getattr
469	common	file_setattr		sys_file_setattr
`;

const LIB = path.resolve(import.meta.dirname, '../lib/syscalls.ts');
const BEGIN = '// BEGIN GENERATED';
const END = '// END GENERATED';

/** syscall_64.tbl: "<nr> <abi> <name> [<entry point> [<compat entry>]]"; x32-only rows are skipped. */
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

function fromHeaders(dir: string): Row[] {
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

function render(rows: Row[], source: string, events: string[]): string {
  const lines = rows.map(([nr, name, entry]) =>
    `  [${nr}, '${name}'${entry === name ? '' : `, '${entry}'`}],`);
  return [
    `${BEGIN} by scripts/gen-syscalls.ts: do not edit by hand.`,
    `// Source: ${source}.`,
    `// Checked against kernel ${os.release()}: all ${events.length} syscalls:sys_enter_* events resolve to a row.`,
    'const X86_64: readonly Row[] = [',
    ...lines,
    '];',
    END,
  ].join('\n');
}

function main(argv: string[]): number {
  if (process.arch !== 'x64') {
    process.stderr.write(`gen-syscalls: only the x86_64 table can be generated so far (this is ${process.arch})\n`);
    return 2;
  }
  const tblAt = argv.indexOf('--tbl');
  let rows: Row[];
  let source: string;
  if (tblAt >= 0) {
    const file = argv[tblAt + 1];
    if (!file) { process.stderr.write('gen-syscalls: --tbl needs a path\n'); return 2; }
    rows = parseTbl(fs.readFileSync(file, 'utf8')).sort((a, b) => a[0] - b[0]);
    source = `${path.basename(file)} given to the generator`;
  } else {
    const headers = findKernelHeaders();
    if (!headers || headers.source === 'kheaders') {
      process.stderr.write('gen-syscalls: no unpacked kernel headers (run `make deps`), or pass --tbl\n');
      return 2;
    }
    const newer = parseTbl(NEWER_THAN_HEADERS);
    rows = merge(fromHeaders(headers.path), newer);
    source = `kernel headers ${headers.release} (asm/unistd_64.h, asm/syscalls_64.h) plus ${newer.length} newer rows from linux v6.18's syscall_64.tbl`;
  }

  const events = kernelSyscallEvents();
  const entries = new Set(rows.map((r) => r[2]).filter(Boolean));
  const missing = events.filter((e) => !entries.has(e));
  if (missing.length) {
    process.stderr.write(`gen-syscalls: the running kernel traces syscalls the table lacks: ${missing.join(', ')} ` +
      '(pass --tbl with this kernel\'s arch/x86/entry/syscalls/syscall_64.tbl)\n');
    return 1;
  }

  const current = fs.readFileSync(LIB, 'utf8');
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin < 0 || end < begin) { process.stderr.write(`gen-syscalls: no GENERATED markers in ${LIB}\n`); return 1; }
  const next = current.slice(0, begin) + render(rows, source, events) + current.slice(end + END.length);
  if (argv.includes('--check')) {
    // The rows must match; the comment naming the kernel it was generated on may differ.
    const rowsOnly = (text: string) => text.split('\n').filter((line) => !line.startsWith('// ')).join('\n');
    const same = rowsOnly(next) === rowsOnly(current);
    process.stdout.write(same ? 'lib/syscalls.ts is up to date\n' : 'lib/syscalls.ts differs from a fresh generation\n');
    return same ? 0 : 1;
  }
  fs.writeFileSync(LIB, next);
  process.stdout.write(`wrote ${rows.length} syscalls to lib/syscalls.ts (${events.length} kernel syscall events, all named)\n`);
  return 0;
}

if (import.meta.filename === fs.realpathSync(process.argv[1] ?? '')) process.exitCode = main(process.argv.slice(2));
