// libbcc's own symboliser (bcc_syms.h: what bcc's Python BPF.sym() uses), declared for koffi. The
// binding names addresses with its own reader (symbols/); this is kept to measure against it
// (test/bench/symbols.ts) and for anyone who wants bcc's exact answers. Loading it maps libbcc,
// and with it LLVM, into the process.
import koffi from 'koffi';
import { libbcc, type Fn } from './libbcc.ts';

// struct bcc_symbol_option from bcc_syms.h as bcc 0.11+ has it (lazify_symbols came then; Debian 12
// ships 0.26). Declared with an older layout, use_symbol_type lands in lazify_symbols and nothing resolves.
koffi.struct('bcc_symbol_option', {
  use_debug_file: 'int', check_debug_file_crc: 'int', lazify_symbols: 'int', use_symbol_type: 'uint32_t',
});
// The bcc_symbol struct itself is declared once, in libbcc.ts.

/** What bcc's Python BPF.sym() asks for: functions and GNU indirect functions. */
export const BCC_SYM_FUNCTIONS = (1 << 2) | (1 << 10);

export interface BccSyms {
  /** void *bcc_symcache_new(int pid, struct bcc_symbol_option *option); pid -1: the kernel. */
  symcache_new: Fn;
  /** int bcc_symcache_resolve_no_demangle(void *cache, uint64_t addr, struct bcc_symbol *sym): 0 when found. */
  symcache_resolve_no_demangle: Fn;
  /** int bcc_symcache_resolve(…): as above, and demangle_name is malloc'ed (free with symbol_free_demangle_name). */
  symcache_resolve: Fn;
  symbol_free_demangle_name: Fn;
  free_symcache: Fn;
}

let loaded: BccSyms | null = null;

export function bccSyms(): BccSyms {
  if (loaded) return loaded;
  libbcc(); // the binding's loader: its error when libbcc is missing, and the library mapped once
  const lib = koffi.load('libbcc.so.0');
  loaded = {
    symcache_new: lib.func('void *bcc_symcache_new(int pid, bcc_symbol_option *option)'),
    symcache_resolve_no_demangle: lib.func('int bcc_symcache_resolve_no_demangle(void *cache, uint64_t addr, _Out_ bcc_symbol *sym)'),
    symcache_resolve: lib.func('int bcc_symcache_resolve(void *cache, uint64_t addr, _Inout_ bcc_symbol *sym)'),
    symbol_free_demangle_name: lib.func('void bcc_symbol_free_demangle_name(bcc_symbol *sym)'),
    free_symcache: lib.func('void bcc_free_symcache(void *cache, int pid)'),
  };
  return loaded;
}
