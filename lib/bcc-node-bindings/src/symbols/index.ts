// The symboliser: kernel and user addresses as function names (bcc's BPF.sym / BPF.ksym).
export { Symbolizer, type SymbolizerOptions } from './symbolizer.ts';
export { formatFrame, UNKNOWN, type Frame } from './frame.ts';
export {
  parseKallsyms, kernelSymbols, lookupKernel, ksym, formatSymbol, UNKNOWN_SYMBOL, type KernelSymbol, type KernelSymbols,
} from './kernel.ts';
export { parsePerfMap } from './perf-map.ts';
export { parseMaps, type Mapping } from './proc.ts';
export { loadObjectFromPath, type ObjectFile } from './object-file.ts';
export { demangle } from '../ffi/demangle.ts';
