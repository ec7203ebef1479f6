// The kernel symboliser now lives in the binding (bcc-node-bindings/src/symbols/kernel.ts), beside the
// user-space one; this re-export keeps tcpdrop and the existing imports working unchanged.
export {
  UNKNOWN_SYMBOL, formatSymbol, parseKallsyms, kernelSymbols, lookupKernel, ksym, type KernelSymbol, type KernelSymbols,
} from '../bcc-node-bindings/src/symbols/kernel.ts';
