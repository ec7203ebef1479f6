// Which class serves which map type, and a table's spec from the compiled program's artifact.
import { BpfError } from './errors.ts';
import { MAP_TYPE } from './features.ts';
import { ArrayTable, HashTable, PerCpuTable, StackTraceTable, Table, type TableInfo } from './table.ts';
import { PerfEventArray } from './perf-buffer.ts';
import { RingBufTable } from './ring-buffer.ts';
import { collectNamedTypes, parsePerfEventFields, parseTypeDescription, type Layout } from './types/index.ts';
import type { ProgramImage } from './image.ts';
import type { ArtifactTable } from './artifact.ts';

/** Sizes let the parser widen typedef'd arrays and refuse descriptions libbcc got wrong; queues have no key at all. */
function describe(desc: string, size: number): Layout {
  if (!desc) return { kind: 'array', element: { kind: 'int', size: 1, signed: false, cType: 'unsigned char' }, length: size };
  return parseTypeDescription(desc, size || undefined);
}

function info(image: ProgramImage, id: number): TableInfo {
  const t: ArtifactTable = image.artifact.tables[id];
  return {
    name: t.name, id, fd: image.mapFds[id], type: t.type, maxEntries: t.maxEntries, flags: t.flags,
    keySize: t.keySize, leafSize: t.leafSize,
    keyLayout: describe(t.keyDesc, t.keySize),
    leafLayout: describe(t.leafDesc, t.leafSize),
  };
}

/**
 * The struct a program passes to perf_submit / ringbuf_output on this table, as libbcc recorded
 * it ("name#type" per field, types as written). Struct-typed fields are resolved from the layouts
 * of the program's tables; what cannot be described (bitfields) is delivered as raw Buffers.
 */
function eventLayout(image: ProgramImage, id: number): Layout | null {
  const { name, eventFields } = image.artifact.tables[id];
  if (!eventFields) return null;
  try {
    return parsePerfEventFields(eventFields, name);
  } catch {
    try {
      const layouts = image.artifact.tables.flatMap((_, i) => { const t = info(image, i); return [t.keyLayout, t.leafLayout]; });
      return parsePerfEventFields(eventFields, name, { types: collectNamedTypes(layouts) });
    } catch {
      return null;
    }
  }
}

export function openTable(image: ProgramImage, name: string): Table {
  const id = image.artifact.tables.findIndex((t) => t.name === name);
  if (id < 0) throw new BpfError('INVALID_ARGUMENT', `the program has no table named ${name}`);
  const spec = info(image, id);
  switch (spec.type) {
    case MAP_TYPE.HASH:
    case MAP_TYPE.LRU_HASH:
      return new HashTable(spec);
    case MAP_TYPE.ARRAY:
      return new ArrayTable(spec);
    case MAP_TYPE.PERCPU_HASH:
    case MAP_TYPE.PERCPU_ARRAY:
    case MAP_TYPE.LRU_PERCPU_HASH:
      return new PerCpuTable(spec);
    case MAP_TYPE.STACK_TRACE:
      return new StackTraceTable(spec);
    case MAP_TYPE.PERF_EVENT_ARRAY:
      return new PerfEventArray(spec, eventLayout(image, id));
    case MAP_TYPE.RINGBUF:
      return new RingBufTable(spec, eventLayout(image, id));
    default:
      return new Table(spec);
  }
}
