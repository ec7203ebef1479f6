// Which class serves which map type, and reading a table's description from libbcc.
import { libbcc } from './ffi/libbcc.ts';
import { BpfError } from './errors.ts';
import { MAP_TYPE } from './features.ts';
import { ArrayTable, HashTable, PerCpuTable, StackTraceTable, Table, type TableInfo } from './table.ts';
import { PerfEventArray } from './perf-buffer.ts';
import { RingBufTable } from './ring-buffer.ts';
import { collectNamedTypes, parsePerfEventFields, parseTypeDescription, type Layout } from './types/index.ts';

function tableInfoById(module: unknown, id: number): TableInfo {
  const bcc = libbcc();
  const keySize = Number(bcc.table_key_size_id(module, id));
  const leafSize = Number(bcc.table_leaf_size_id(module, id));
  return {
    name: bcc.table_name(module, id) as string,
    id,
    fd: bcc.table_fd_id(module, id) as number,
    type: bcc.table_type_id(module, id) as number,
    maxEntries: Number(bcc.table_max_entries_id(module, id)),
    flags: bcc.table_flags_id(module, id) as number,
    keySize,
    leafSize,
    keyLayout: describe(bcc.table_key_desc_id(module, id) as string, keySize),
    leafLayout: describe(bcc.table_leaf_desc_id(module, id) as string, leafSize),
  };
}

/** Sizes let the parser widen typedef'd arrays and refuse descriptions libbcc got wrong; queues have no key at all. */
function describe(desc: string, size: number): Layout {
  if (!desc) return { kind: 'array', element: { kind: 'int', size: 1, signed: false, cType: 'unsigned char' }, length: size };
  return parseTypeDescription(desc, size || undefined);
}

export function tableInfo(module: unknown, name: string): TableInfo {
  const bcc = libbcc();
  const count = Number(bcc.num_tables(module));
  for (let id = 0; id < count; id++) {
    if (bcc.table_name(module, id) === name) return tableInfoById(module, id);
  }
  throw new BpfError('INVALID_ARGUMENT', `the program has no table named ${name}`);
}

/**
 * The struct a program passes to perf_submit / ringbuf_output on this table, as libbcc recorded
 * it ("name#type" per field, types as written). Struct-typed fields are resolved from the layouts
 * of the program's tables; what cannot be described (bitfields) is delivered as raw Buffers.
 */
function eventLayout(module: unknown, name: string): Layout | null {
  const bcc = libbcc();
  const count = Number(bcc.perf_event_fields(module, name));
  if (count === 0) return null;
  const fields = Array.from({ length: count }, (_, i) => bcc.perf_event_field(module, name, i) as string);
  try {
    return parsePerfEventFields(fields, name);
  } catch {
    try {
      const tables = Array.from({ length: Number(bcc.num_tables(module)) }, (_, id) => tableInfoById(module, id));
      return parsePerfEventFields(fields, name, { types: collectNamedTypes(tables.flatMap((t) => [t.keyLayout, t.leafLayout])) });
    } catch {
      return null;
    }
  }
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
