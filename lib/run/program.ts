// Turning a tool's configuration into the C program it loads. Options reach the kernel only as
// #define lines built here from validated numbers (or as map entries the tool fills later): a
// user's string never becomes C source. The result is exactly what --ebpf prints and what is
// compiled: one text that stands alone, the project's own headers (bpf/include/bpfkit/*.h)
// inlined, so that bcc's `BPF(text=...)` or anyone's clang can load what --ebpf printed.
import fs from 'node:fs';
import path from 'node:path';
import type { BPF } from 'bcc-node-bindings';
import { BPF_INCLUDE_DIR, TOOLS_DIR } from './paths.ts';
import type { AttachChoice } from './attach-plan.ts';

export type DefineValue = number | bigint | boolean;

export interface ProgramConfig {
  /** The tool's C file, e.g. "execsnoop.bpf.c", found in the tool's home: tools/execsnoop/. */
  file: string;
  /** Configuration as #defines: names in C macro style, values numbers or booleans only. */
  defines?: Record<string, DefineValue>;
}

/**
 * What a tool's configuration function (tools/<tool>/program.ts) returns from its options and a
 * KernelView: the C file, its #defines, where each probe goes and why, and how to attach them.
 * The tool and `bpfkit exporter` both load a tool's program through it, so nothing is spelled twice.
 */
export interface ToolProgram extends ProgramConfig {
  /** Each attach decision with the ladder of candidates (what --explain prints). */
  attachments: AttachChoice[];
  /** Attaches every chosen probe, in an order that sees nothing half-configured. */
  attach(bpf: BPF): void;
}

export interface BuiltProgram {
  text: string;
  /**
   * Always empty: the text carries its headers, so compiling it with no include directory
   * proves on every run that what --ebpf prints is complete.
   */
  includeDirs: string[];
}

const MACRO_NAME = /^[A-Z][A-Z0-9_]*$/;

export function defineLine(name: string, value: DefineValue): string {
  if (!MACRO_NAME.test(name)) throw new Error(`bad macro name ${JSON.stringify(name)}`);
  let text: string;
  if (typeof value === 'boolean') text = value ? '1' : '0';
  else if (typeof value === 'bigint') text = `${value}ULL`;
  else if (Number.isSafeInteger(value)) text = String(value);
  else throw new Error(`#define ${name}: ${value} is not an integer`);
  return `#define ${name} ${text}`;
}

export function buildProgram(config: ProgramConfig): BuiltProgram {
  if (!/^[a-z0-9_-]+\.bpf\.c$/.test(config.file)) throw new Error(`bad program file name ${config.file}`);
  const tool = config.file.slice(0, -'.bpf.c'.length);
  const source = fs.readFileSync(path.join(TOOLS_DIR, tool, config.file), 'utf8');
  const defines = Object.entries(config.defines ?? {}).map(([name, value]) => defineLine(name, value));
  const header = defines.length ? `/* configuration */\n${defines.join('\n')}\n\n` : '';
  const readHeader = (name: string) => fs.readFileSync(path.join(BPF_INCLUDE_DIR, name), 'utf8');
  return { text: header + inlineHeaders(source, config.file, readHeader), includeDirs: [] };
}

const OWN_INCLUDE = /^\s*#\s*include\s+"(bpfkit\/[a-z0-9_]+\.h)"\s*(?:\/\/.*|\/\*.*\*\/\s*)?$/;
const ANY_OWN_INCLUDE = /^\s*#\s*include\s+"bpfkit\//;
const OPENS = /^\s*#\s*if(?:n?def)?\b/;
const CLOSES = /^\s*#\s*endif\b/;

/**
 * Replaces each `#include "bpfkit/x.h"` with the header's text, recursively, between a comment
 * naming it and one saying where it ends; system headers (`<...>`) stay includes, since every
 * bcc set-up has them. A header is inlined once: a later #include of it would be emptied by
 * its include guard anyway, so it becomes a comment. The exception is a header first included
 * under an #if (bpfkit/containers.h includes bpfkit/task.h only for FILTER_MNTNS_MAP): that copy
 * may be compiled out, so a later #include inlines it again and the guard decides, as before.
 */
export function inlineHeaders(source: string, file: string, read: (name: string) => string): string {
  const always = new Set<string>();
  const open = new Set<string>();
  const expand = (text: string, where: string, conditional: boolean): string => {
    const lines = text.split('\n');
    // An include guard (#ifndef X / #define X first) is no condition: everything inside it counts
    // as unconditional, so the guard's own #ifndef starts the count at 0.
    let depth = hasGuard(lines) ? -1 : 0;
    return lines.map((line) => {
      if (OPENS.test(line)) depth++;
      else if (CLOSES.test(line)) depth--;
      const m = OWN_INCLUDE.exec(line);
      if (!m) {
        if (ANY_OWN_INCLUDE.test(line)) throw new Error(`${where}: cannot inline ${line.trim()}: headers are bpfkit/<lowercase name>.h`);
        return line;
      }
      const name = m[1];
      if (always.has(name) || open.has(name)) return `/* ${name}: inlined above */`;
      const underIf = conditional || depth > 0;
      if (!underIf) always.add(name);
      let body: string;
      try {
        body = read(name);
      } catch (err) {
        throw new Error(`${where}: #include "${name}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such header in bpf/include' : (err as Error).message}`);
      }
      open.add(name);
      const inlined = expand(body.replace(/\n$/, ''), name, underIf);
      open.delete(name);
      return `/* ${name} */\n${inlined}\n/* end of ${name} */`;
    }).join('\n');
  };
  return expand(source, file, false);
}

function hasGuard(lines: string[]): boolean {
  const directives = lines.filter((l) => /^\s*#/.test(l)).slice(0, 2);
  const guard = /^\s*#\s*ifndef\s+(\w+)/.exec(directives[0] ?? '');
  return guard !== null && new RegExp(`^\\s*#\\s*define\\s+${guard[1]}\\b`).test(directives[1] ?? '');
}
