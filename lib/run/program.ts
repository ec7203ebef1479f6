// Turning a tool's configuration into the C program it loads. Options reach the kernel only as
// #define lines built here from validated numbers (or as map entries the tool fills later): a
// user's string never becomes C source. The result is exactly what --ebpf prints.
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
  return { text: header + source, includeDirs: [BPF_INCLUDE_DIR] };
}
