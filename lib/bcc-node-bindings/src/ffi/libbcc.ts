// The C API of libbcc (Debian/Ubuntu package `libbpfcc`), declared for koffi — and nothing else.
//
// Signatures are copied from libbcc's headers (bcc_common.h, libbpf.h, perf_reader.h), not from
// bcc's Python binding, whose libbcc.py has wrong argument lists (bpf_attach_uprobe takes 7
// arguments, Python declares 6). libbcc is loaded lazily, on first use, so that `--help`, option
// errors and cached programs never pay for mapping LLVM (about 65 MB of RSS and 30 ms).
import fs from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';
import { BpfError } from '../errors.ts';

export const PerfRawCallback = koffi.proto('void bpfkit_perf_raw_cb(void *cookie, void *raw, int size)');
export const PerfLostCallback = koffi.proto('void bpfkit_perf_lost_cb(void *cookie, uint64_t lost)');
export const RingSampleCallback = koffi.proto('int bpfkit_ring_sample_cb(void *ctx, void *data, size_t size)');
// Declared for its name: the prototypes below refer to it as text.
koffi.struct('bcc_perf_buffer_opts', { pid: 'int', cpu: 'int', wakeup_events: 'int' });

/** A function bound by koffi (koffi does not export its type). */
export type Fn = ReturnType<LibraryHandle['func']>;

export interface LibBcc {
  version: string; // "0.26.0"; "unknown" when the file name does not tell
  path: string;
  module_create_c_from_string: Fn;
  module_destroy: Fn;
  module_license: Fn;
  module_kern_version: Fn;
  num_functions: Fn;
  function_name: Fn;
  function_start: Fn;
  function_size: Fn;
  num_tables: Fn;
  table_name: Fn;
  table_fd_id: Fn;
  table_type_id: Fn;
  table_max_entries_id: Fn;
  table_flags_id: Fn;
  table_key_desc_id: Fn;
  table_leaf_desc_id: Fn;
  table_key_size_id: Fn;
  table_leaf_size_id: Fn;
  perf_event_fields: Fn;
  perf_event_field: Fn;
  /** bcc_func_load; libbcc < 0.25 has no attach_type argument. */
  func_load: (module: unknown, progType: number, name: string, insns: unknown, len: number, license: string,
    kernVersion: number, logLevel: number, logBuf: Buffer | null, logSize: number, attachType: number) => number;
  lookup_elem: Fn;
  update_elem: Fn;
  delete_elem: Fn;
  get_first_key: Fn;
  get_next_key: Fn;
  /** Batch operations arrived in libbcc 0.24; null before. */
  lookup_batch: Fn | null;
  lookup_and_delete_batch: Fn | null;
  update_batch: Fn | null;
  delete_batch: Fn | null;
  attach_tracepoint: Fn;
  detach_tracepoint: Fn;
  attach_raw_tracepoint: Fn;
  attach_kprobe: Fn;
  detach_kprobe: Fn;
  attach_uprobe: Fn;
  detach_uprobe: Fn;
  attach_perf_event: Fn;
  attach_kfunc: Fn | null;
  /** Netlink XDP attach (prog fd -1 detaches); used only where libbpf lacks bpf_xdp_attach. */
  attach_xdp: Fn;
  close_perf_event_fd: Fn;
  /** Returns a perf reader for one CPU (uses bpf_open_perf_buffer on libbcc < 0.24). */
  open_perf_buffer: (raw: unknown, lost: unknown, cookie: bigint, cpu: number, pageCount: number, wakeupEvents: number) => unknown;
  /** Drains every reader without waiting (perf_reader_poll(…, 0) on libbcc 0.18, which lacks consume). */
  perf_reader_consume: (count: number, readers: unknown) => number;
  perf_reader_fd: Fn;
  perf_reader_free: Fn;
  new_ringbuf: Fn;
  add_ringbuf: Fn;
  consume_ringbuf: Fn;
  free_ringbuf: Fn;
  ring_buffer_epoll_fd: Fn;
  resolve_symname: Fn;
  procutils_free: Fn;
  /** For libbpf < 0.6, which has no bpf_map_create / bpf_prog_load. */
  create_map: Fn;
  prog_load: Fn;
}

koffi.struct('bcc_symbol', {
  name: 'void *', demangle_name: 'void *', module: 'void *', offset: 'uint64_t',
});

let loaded: LibBcc | null = null;

export function libbcc(): LibBcc {
  if (!loaded) loaded = load();
  return loaded;
}

/** Whether libbcc is already mapped into this process (used to report what a run cost). */
export function libbccLoaded(): boolean {
  return loaded !== null;
}

function load(): LibBcc {
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libbcc.so.0');
  } catch (err) {
    throw new BpfError('LIBBCC_MISSING',
      'libbcc is not installed: run `make deps` or `apt-get install libbpfcc`', { cause: err });
  }
  const optional = (proto: string): Fn | null => {
    try { return lib.func(proto); } catch { return null; }
  };
  const path = mappedPath('libbcc.so') ?? 'libbcc.so.0';
  const version = /libbcc\.so\.(\d+\.\d+\.\d+)/.exec(fs.existsSync(path) ? fs.realpathSync(path) : path)?.[1] ?? 'unknown';

  const funcLoad12 = lib.func('int bcc_func_load(void *program, int prog_type, const char *name, const void *insns, int prog_len, const char *license, unsigned int kern_version, int log_level, void *log_buf, unsigned int log_buf_size, const char *dev_name, int attach_type)');
  const funcLoad11 = lib.func('bcc_func_load', 'int', ['void *', 'int', 'const char *', 'const void *', 'int', 'const char *', 'unsigned int', 'int', 'void *', 'unsigned int', 'const char *']);
  const hasAttachType = version === 'unknown' || compareVersions(version, '0.25.0') >= 0;

  const openOpts = optional('void *bpf_open_perf_buffer_opts(bpfkit_perf_raw_cb *raw_cb, bpfkit_perf_lost_cb *lost_cb, void *cb_cookie, int page_cnt, bcc_perf_buffer_opts *opts)');
  const openPlain = lib.func('void *bpf_open_perf_buffer(bpfkit_perf_raw_cb *raw_cb, bpfkit_perf_lost_cb *lost_cb, void *cb_cookie, int pid, int cpu, int page_cnt)');
  const consume = optional('int perf_reader_consume(int num_readers, void *readers)');
  const poll = lib.func('int perf_reader_poll(int num_readers, void *readers, int timeout)');

  return {
    version,
    path,
    module_create_c_from_string: lib.func('void *bpf_module_create_c_from_string(const char *text, unsigned int flags, const char **cflags, int ncflags, bool allow_rlimit, const char *dev_name)'),
    module_destroy: lib.func('void bpf_module_destroy(void *program)'),
    module_license: lib.func('const char *bpf_module_license(void *program)'),
    module_kern_version: lib.func('unsigned int bpf_module_kern_version(void *program)'),
    num_functions: lib.func('size_t bpf_num_functions(void *program)'),
    function_name: lib.func('const char *bpf_function_name(void *program, size_t id)'),
    function_start: lib.func('void *bpf_function_start(void *program, const char *name)'),
    function_size: lib.func('size_t bpf_function_size(void *program, const char *name)'),
    num_tables: lib.func('size_t bpf_num_tables(void *program)'),
    table_name: lib.func('const char *bpf_table_name(void *program, size_t id)'),
    table_fd_id: lib.func('int bpf_table_fd_id(void *program, size_t id)'),
    table_type_id: lib.func('int bpf_table_type_id(void *program, size_t id)'),
    table_max_entries_id: lib.func('size_t bpf_table_max_entries_id(void *program, size_t id)'),
    table_flags_id: lib.func('int bpf_table_flags_id(void *program, size_t id)'),
    table_key_desc_id: lib.func('const char *bpf_table_key_desc_id(void *program, size_t id)'),
    table_leaf_desc_id: lib.func('const char *bpf_table_leaf_desc_id(void *program, size_t id)'),
    table_key_size_id: lib.func('size_t bpf_table_key_size_id(void *program, size_t id)'),
    table_leaf_size_id: lib.func('size_t bpf_table_leaf_size_id(void *program, size_t id)'),
    perf_event_fields: lib.func('size_t bpf_perf_event_fields(void *program, const char *event)'),
    perf_event_field: lib.func('const char *bpf_perf_event_field(void *program, const char *event, size_t i)'),
    func_load: (module, progType, name, insns, len, license, kernVersion, logLevel, logBuf, logSize, attachType) =>
      hasAttachType
        ? funcLoad12(module, progType, name, insns, len, license, kernVersion, logLevel, logBuf, logSize, null, attachType)
        : funcLoad11(module, progType, name, insns, len, license, kernVersion, logLevel, logBuf, logSize, null),
    lookup_elem: lib.func('int bpf_lookup_elem(int fd, void *key, void *value)'),
    update_elem: lib.func('int bpf_update_elem(int fd, void *key, void *value, unsigned long long flags)'),
    delete_elem: lib.func('int bpf_delete_elem(int fd, void *key)'),
    get_first_key: lib.func('int bpf_get_first_key(int fd, void *key, size_t key_size)'),
    get_next_key: lib.func('int bpf_get_next_key(int fd, void *key, void *next_key)'),
    lookup_batch: optional('int bpf_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count)'),
    lookup_and_delete_batch: optional('int bpf_lookup_and_delete_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count)'),
    update_batch: optional('int bpf_update_batch(int fd, void *keys, void *values, void *count)'),
    delete_batch: optional('int bpf_delete_batch(int fd, void *keys, void *count)'),
    attach_tracepoint: lib.func('int bpf_attach_tracepoint(int progfd, const char *tp_category, const char *tp_name)'),
    detach_tracepoint: lib.func('int bpf_detach_tracepoint(const char *tp_category, const char *tp_name)'),
    attach_raw_tracepoint: lib.func('int bpf_attach_raw_tracepoint(int progfd, const char *tp_name)'),
    attach_kprobe: lib.func('int bpf_attach_kprobe(int progfd, int attach_type, const char *ev_name, const char *fn_name, uint64_t fn_offset, int maxactive)'),
    detach_kprobe: lib.func('int bpf_detach_kprobe(const char *ev_name)'),
    attach_uprobe: lib.func('int bpf_attach_uprobe(int progfd, int attach_type, const char *ev_name, const char *binary_path, uint64_t offset, int pid, uint32_t ref_ctr_offset)'),
    detach_uprobe: lib.func('int bpf_detach_uprobe(const char *ev_name)'),
    attach_perf_event: lib.func('int bpf_attach_perf_event(int progfd, uint32_t ev_type, uint32_t ev_config, uint64_t sample_period, uint64_t sample_freq, int pid, int cpu, int group_fd)'),
    attach_kfunc: optional('int bpf_attach_kfunc(int prog_fd)'),
    attach_xdp: lib.func('int bpf_attach_xdp(const char *dev_name, int progfd, uint32_t flags)'),
    close_perf_event_fd: lib.func('int bpf_close_perf_event_fd(int fd)'),
    open_perf_buffer: (raw, lost, cookie, cpu, pageCount, wakeupEvents) =>
      openOpts
        ? openOpts(raw, lost, cookie, pageCount, { pid: -1, cpu, wakeup_events: wakeupEvents })
        : openPlain(raw, lost, cookie, -1, cpu, pageCount),
    perf_reader_consume: (count, readers) => (consume ? consume(count, readers) : poll(count, readers, 0)),
    perf_reader_fd: lib.func('int perf_reader_fd(void *reader)'),
    perf_reader_free: lib.func('void perf_reader_free(void *reader)'),
    new_ringbuf: lib.func('void *bpf_new_ringbuf(int map_fd, bpfkit_ring_sample_cb *sample_cb, void *ctx)'),
    add_ringbuf: lib.func('int bpf_add_ringbuf(void *rb, int map_fd, bpfkit_ring_sample_cb *sample_cb, void *ctx)'),
    consume_ringbuf: lib.func('int bpf_consume_ringbuf(void *rb)'),
    free_ringbuf: lib.func('void bpf_free_ringbuf(void *rb)'),
    // A libbpf symbol; libbcc links libbpf, so its handle resolves it.
    ring_buffer_epoll_fd: lib.func('int ring_buffer__epoll_fd(void *rb)'),
    resolve_symname: lib.func('int bcc_resolve_symname(const char *module, const char *symname, uint64_t addr, int pid, void *option, _Out_ bcc_symbol *sym)'),
    procutils_free: lib.func('void bcc_procutils_free(void *ptr)'),
    create_map: lib.func('int bcc_create_map(int map_type, const char *name, int key_size, int value_size, int max_entries, int map_flags)'),
    prog_load: lib.func('int bcc_prog_load(int prog_type, const char *name, const void *insns, int prog_len, const char *license, unsigned int kern_version, int log_level, void *log_buf, unsigned int log_buf_size)'),
  };
}


/** The file a shared library was mapped from, read from /proc/self/maps (koffi does not say). */
function mappedPath(fragment: string): string | null {
  try {
    for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const path = line.slice(line.indexOf('/'));
      if (line.includes('/') && path.includes(fragment)) return path;
    }
  } catch { /* not Linux /proc: the version stays unknown */ }
  return null;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
