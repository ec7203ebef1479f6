// bcc-node-bindings: the TypeScript counterpart of bcc's Python `BPF` module.
export { BPF, type BPFOptions, type LoadedFunction, type LoadFuncOptions } from './bpf.ts';
export { BpfError, isBpfError, type BpfErrorCode } from './errors.ts';
export type { Link, LinkKind, UprobeTarget, PerfEventTarget } from './attach.ts';
export { samplingEventErrno, resolveUprobe } from './attach.ts';
export { symbolFileOffset, uprobePmu } from './uprobe.ts';
export {
  disassemble, formatDisasm, insnAt, insnText, kernelHelperName, kernelCallBase,
  type Insn, type DisasmLine, type DisasmOptions, type KernelAddressBook,
} from './disasm.ts';
export {
  Table, HashTable, ArrayTable, PerCpuTable, StackTraceTable, sumValues,
  type TableInfo, type HistogramPrintOptions,
} from './table.ts';
export { PerfEventArray, type PerfBufferOptions } from './perf-buffer.ts';
export { RingBufTable, type RingBufferOptions } from './ring-buffer.ts';
export type { EventHandler, EventStreamOptions } from './event-stream.ts';
export {
  PROG_TYPE, MAP_TYPE, ATTACH_TYPE, tracepointExists, rawTracepointSupported, kprobesAvailable, fentryUsable,
  ringBufferSupported, batchOpsSupported, kernelBtfAvailable, probeFeatures,
} from './features.ts';
export {
  tracefsPath, ensureTracefs, findKernelHeaders, useKernelHeaders, headersMismatchNotice, cacheRoot, possibleCpus,
  onlineCpus, isRoot, requireRoot, notAllowed, type KernelHeaders,
} from './kernel.ts';
export * from './histogram.ts';
export { parseTypeDescription, parsePerfEventFields, decode, encode, makeDecoder, layoutSize, type Layout } from './types/index.ts';
export { closeAll, closeAllAsync } from './cleanup.ts';
export {
  interfaceIndex, validInterfaceName, type XdpAttachment, type XdpAttempt, type XdpMechanism, type XdpMode, type XdpOptions,
} from './xdp.ts';
export { openPinned, pinObject, createMap, updateMap } from './pins.ts';
export {
  programInfo, mapInfo, loadedProgramIds, loadedMapIds, programExists, programInstructions, programMachineCode, enableRunStats,
  type ProgramInfo, type MapInfo,
} from './object-info.ts';
export { attachSocketFilter, type SocketFilterLink } from './socket-filter.ts';
export { KernelBtf, kernelBtf, kernelBtfOrNull, BTF_KIND, type BtfQueries, type FieldLocation } from './btf.ts';
export { libbcc } from './ffi/libbcc.ts';
export {
  Symbolizer, formatFrame, UNKNOWN, parseKallsyms, kernelSymbols, lookupKernel, ksym, formatSymbol, UNKNOWN_SYMBOL,
  parsePerfMap, parseMaps, loadObjectFromPath, demangle,
  type SymbolizerOptions, type Frame, type KernelSymbol, type KernelSymbols, type Mapping, type ObjectFile,
} from './symbols/index.ts';
