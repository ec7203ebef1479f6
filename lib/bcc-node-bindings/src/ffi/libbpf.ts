// libbpf (libbpf.so.1, a dependency of libbcc) for what libbcc does not wrap: walking the kernel's
// BPF object ids and reading bpf_prog_info / bpf_map_info. Loading it costs ~1 MB, not LLVM's 65.
import koffi, { type LibraryHandle } from 'koffi';
import type { Fn } from './libbcc.ts';
import { BpfError } from '../errors.ts';

export interface LibBpf {
  prog_get_next_id: Fn;
  prog_get_fd_by_id: Fn;
  map_get_next_id: Fn;
  map_get_fd_by_id: Fn;
  obj_get_info_by_fd: Fn;
  prog_load: Fn;
  map_create: Fn;
  map_lookup_batch: Fn;
  raw_tracepoint_open: Fn;
  btf_load_vmlinux: Fn;
  btf_find_by_name_kind: Fn;
  btf_free: Fn;
}

let loaded: LibBpf | null = null;

export function libbpf(): LibBpf {
  if (loaded) return loaded;
  let lib: LibraryHandle | null = null;
  for (const name of ['libbpf.so.1', 'libbpf.so.0']) {
    try { lib = koffi.load(name); break; } catch { /* try the older soname */ }
  }
  if (!lib) throw new BpfError('LIBBCC_MISSING', 'libbpf is not installed: run `make deps` or `apt-get install libbpf1`');
  loaded = {
    prog_get_next_id: lib.func('int bpf_prog_get_next_id(uint32_t start_id, _Out_ uint32_t *next_id)'),
    prog_get_fd_by_id: lib.func('int bpf_prog_get_fd_by_id(uint32_t id)'),
    map_get_next_id: lib.func('int bpf_map_get_next_id(uint32_t start_id, _Out_ uint32_t *next_id)'),
    map_get_fd_by_id: lib.func('int bpf_map_get_fd_by_id(uint32_t id)'),
    obj_get_info_by_fd: lib.func('int bpf_obj_get_info_by_fd(int bpf_fd, void *info, _Inout_ uint32_t *info_len)'),
    prog_load: lib.func('int bpf_prog_load(int prog_type, const char *prog_name, const char *license, const void *insns, size_t insn_cnt, void *opts)'),
    map_create: lib.func('int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, void *opts)'),
    map_lookup_batch: lib.func('int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, void *opts)'),
    raw_tracepoint_open: lib.func('int bpf_raw_tracepoint_open(const char *name, int prog_fd)'),
    btf_load_vmlinux: lib.func('void *btf__load_vmlinux_btf(void)'),
    btf_find_by_name_kind: lib.func('int btf__find_by_name_kind(void *btf, const char *type_name, uint32_t kind)'),
    btf_free: lib.func('void btf__free(void *btf)'),
  };
  return loaded;
}
