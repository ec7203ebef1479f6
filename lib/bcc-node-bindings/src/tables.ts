// Which class serves which map type, and reading a table's description from libbcc.
import { libbcc } from './ffi/libbcc.ts';
import { BpfError } from './errors.ts';
import { MAP_TYPE } from './features.ts';
import { ArrayTable, HashTable, PerCpuTable, StackTraceTable, Table, type TableInfo } from './table.ts';
import { PerfEventArray } from './perf-buffer.ts';
import { RingBufTable } from './ring-buffer.ts';
import { parsePerfEventFields, parseTypeDescription, type Layout } from './types/index.ts';

export function tableInfo(module: unknown, name: string): TableInfo {
  const bcc = libbcc();
  const count = Number(bcc.num_tables(module));
  for (let id = 0; id < count; id++) {
    if (bcc.table_name(module, id) !== name) continue;
    return {
      name, id,
      fd: bcc.table_fd_id(module, id) as number,
      type: bcc.table_type_id(module, id) as number,
      maxEntries: Number(bcc.table_max_entries_id(module, id)),
      flags: bcc.table_flags_id(module, id) as number,
      keySize: Number(bcc.table_key_size_id(module, id)),
      leafSize: Number(bcc.table_leaf_size_id(module, id)),
      keyLayout: parseTypeDescription(bcc.table_key_desc_id(module, id) as string),
      leafLayout: parseTypeDescription(bcc.table_leaf_desc_id(module, id) as string),
    };
  }
  throw new BpfError('INVALID_ARGUMENT', `the program has no table named ${name}`);
}

/** The struct a program passes to perf_submit / ringbuf_output on this table, as libbcc recorded it. */
function eventLayout(module: unknown, name: string): Layout | null {
  const bcc = libbcc();
  const count = Number(bcc.perf_event_fields(module, name));
  if (count === 0) return null;
  const fields = Array.from({ length: count }, (_, i) => bcc.perf_event_field(module, name, i) as string);
  return parsePerfEventFields(fields, name);
}

export function openTable(module: unknown, name: string): Table {
  const info = tableInfo(module, name);
  switch (info.type) {
    case MAP_TYPE.HASH:
    case MAP_TYPE.LRU_HASH:
      return new HashTable(info);
    case MAP_TYPE.ARRAY:
      return new ArrayTable(info);
    case MAP_TYPE.PERCPU_HASH:
    case MAP_TYPE.PERCPU_ARRAY:
    case MAP_TYPE.LRU_PERCPU_HASH:
      return new PerCpuTable(info);
    case MAP_TYPE.STACK_TRACE:
      return new StackTraceTable(info);
    case MAP_TYPE.PERF_EVENT_ARRAY:
      return new PerfEventArray(info, eventLayout(module, name));
    case MAP_TYPE.RINGBUF:
      return new RingBufTable(info, eventLayout(module, name));
    default:
      return new Table(info);
  }
}
