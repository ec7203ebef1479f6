// libbpf (libbpf.so.1 or .0, a dependency of libbcc), declared for koffi — and nothing else.
//
// Everything after compilation goes through libbpf rather than libbcc: creating maps, loading
// programs, map operations, perf and ring buffers, object info. Mapping libbpf costs about 1 MB;
// mapping libbcc maps LLVM and clang too (about 65 MB of RSS and 30 ms), so a program loaded from
// the compile cache never touches libbcc at all.
import koffi, { type LibraryHandle } from 'koffi';
import { BpfError } from '../errors.ts';
import type { Fn } from './libbcc.ts';

export const PerfSampleCallback = koffi.proto('void bpfkit_pb_sample_cb(void *ctx, int cpu, void *data, uint32_t size)');
export const PerfLostCallback = koffi.proto('void bpfkit_pb_lost_cb(void *ctx, int cpu, uint64_t cnt)');
export const RingSampleCallback = koffi.proto('int bpfkit_rb_sample_cb(void *ctx, void *data, size_t size)');
// libbpf < 0.6 takes the callbacks in an options struct instead of as arguments.
koffi.struct('bpfkit_perf_buffer_opts_v0', {
  sample_cb: 'bpfkit_pb_sample_cb *', lost_cb: 'bpfkit_pb_lost_cb *', ctx: 'void *',
});

export interface LibBpf {
  /** libbpf >= 0.6: bpf_prog_load, bpf_map_create and the new perf_buffer__new exist. */
  modern: boolean;
  prog_get_next_id: Fn;
  prog_get_fd_by_id: Fn;
  map_get_next_id: Fn;
  map_get_fd_by_id: Fn;
  obj_get_info_by_fd: Fn;
  obj_get: Fn;
  obj_pin: Fn;
  prog_load: Fn | null;
  map_create: Fn | null;
  raw_tracepoint_open: Fn;
  map_lookup_elem: Fn;
  map_update_elem: Fn;
  map_delete_elem: Fn;
  map_get_next_key: Fn;
  map_lookup_batch: Fn;
  map_lookup_and_delete_batch: Fn;
  map_delete_batch: Fn;
  map_update_batch: Fn;
  /** (mapFd, pageCount, sample, lost, ctx) → struct perf_buffer *, on either API generation. */
  perf_buffer_new: (mapFd: number, pageCount: number, sample: unknown, lost: unknown, ctx: bigint) => unknown;
  perf_buffer_epoll_fd: Fn;
  perf_buffer_consume: Fn;
  perf_buffer_free: Fn;
  ring_buffer_new: Fn;
  ring_buffer_epoll_fd: Fn;
  ring_buffer_consume: Fn;
  ring_buffer_free: Fn;
  btf_load_vmlinux: Fn | null;
  btf_find_by_name_kind: Fn | null;
  btf_free: Fn | null;
}

let loaded: LibBpf | null = null;

let handle: LibraryHandle | null = null;

/** libbpf itself, mapped once for every set of declarations (this file's, ffi/xdp.ts's). */
export function libbpfLibrary(): LibraryHandle {
  if (handle) return handle;
  for (const name of ['libbpf.so.1', 'libbpf.so.0']) {
    try { handle = koffi.load(name); return handle; } catch { /* try the older soname */ }
  }
  throw new BpfError('LIBBCC_MISSING', 'libbpf is not installed: run `make deps` or `apt-get install libbpf1`');
}

/** A function of `lib`, or null where this version lacks it. */
export function optionalFunction(lib: LibraryHandle, proto: string): Fn | null {
  try { return lib.func(proto); } catch { return null; }
}

export function libbpf(): LibBpf {
  if (loaded) return loaded;
  const lib = libbpfLibrary();
  const optional = (proto: string): Fn | null => optionalFunction(lib, proto);
  const modern = optional('int libbpf_major_version(void)') !== null;
  const pbNew = modern
    ? lib.func('void *perf_buffer__new(int map_fd, size_t page_cnt, bpfkit_pb_sample_cb *sample_cb, bpfkit_pb_lost_cb *lost_cb, void *ctx, void *opts)')
    : lib.func('void *perf_buffer__new(int map_fd, size_t page_cnt, bpfkit_perf_buffer_opts_v0 *opts)');
  loaded = {
    modern,
    prog_get_next_id: lib.func('int bpf_prog_get_next_id(uint32_t start_id, _Out_ uint32_t *next_id)'),
    prog_get_fd_by_id: lib.func('int bpf_prog_get_fd_by_id(uint32_t id)'),
    map_get_next_id: lib.func('int bpf_map_get_next_id(uint32_t start_id, _Out_ uint32_t *next_id)'),
    map_get_fd_by_id: lib.func('int bpf_map_get_fd_by_id(uint32_t id)'),
    obj_get_info_by_fd: lib.func('int bpf_obj_get_info_by_fd(int bpf_fd, void *info, _Inout_ uint32_t *info_len)'),
    obj_get: lib.func('int bpf_obj_get(const char *pathname)'),
    obj_pin: lib.func('int bpf_obj_pin(int fd, const char *pathname)'),
    prog_load: optional('int bpf_prog_load(int prog_type, const char *prog_name, const char *license, const void *insns, size_t insn_cnt, void *opts)'),
    map_create: optional('int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, void *opts)'),
    raw_tracepoint_open: lib.func('int bpf_raw_tracepoint_open(const char *name, int prog_fd)'),
    map_lookup_elem: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    map_update_elem: lib.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
    map_delete_elem: lib.func('int bpf_map_delete_elem(int fd, const void *key)'),
    map_get_next_key: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    map_lookup_batch: lib.func('int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, void *opts)'),
    map_lookup_and_delete_batch: lib.func('int bpf_map_lookup_and_delete_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, void *opts)'),
    map_delete_batch: lib.func('int bpf_map_delete_batch(int fd, const void *keys, void *count, void *opts)'),
    map_update_batch: lib.func('int bpf_map_update_batch(int fd, const void *keys, const void *values, void *count, void *opts)'),
    perf_buffer_new: (mapFd, pageCount, sample, lost, ctx) =>
      modern ? pbNew(mapFd, pageCount, sample, lost, ctx, null) : pbNew(mapFd, pageCount, { sample_cb: sample, lost_cb: lost, ctx }),
    perf_buffer_epoll_fd: lib.func('int perf_buffer__epoll_fd(void *pb)'),
    perf_buffer_consume: lib.func('int perf_buffer__consume(void *pb)'),
    perf_buffer_free: lib.func('void perf_buffer__free(void *pb)'),
    ring_buffer_new: lib.func('void *ring_buffer__new(int map_fd, bpfkit_rb_sample_cb *sample_cb, void *ctx, void *opts)'),
    ring_buffer_epoll_fd: lib.func('int ring_buffer__epoll_fd(void *rb)'),
    ring_buffer_consume: lib.func('int ring_buffer__consume(void *rb)'),
    ring_buffer_free: lib.func('void ring_buffer__free(void *rb)'),
    btf_load_vmlinux: optional('void *btf__load_vmlinux_btf(void)'),
    btf_find_by_name_kind: optional('int btf__find_by_name_kind(void *btf, const char *type_name, uint32_t kind)'),
    btf_free: optional('void btf__free(void *btf)'),
  };
  return loaded;
}
