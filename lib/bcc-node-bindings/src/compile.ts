// C source → artifact, through libbcc. libbcc compiles with clang, rewrites bcc's macros and
// creates the maps; we copy out each function's instructions, note which instructions refer to
// which map, record every table's spec, then destroy the module (and with it those maps): the
// artifact is loaded afresh by image.ts, the same way whether it was just compiled or cached.
import path from 'node:path';
import { libbcc } from './ffi/libbcc.ts';
import { libc, errnoMessage } from './ffi/libc.ts';
import { BpfError, EPERM } from './errors.ts';
import { captureOutput } from './capture.ts';
import { MAIN_FILE, formatDiagnostics, parseDiagnostics, relevantDiagnostics, type Diagnostic } from './diagnostics.ts';
import { loadedMapIds, mapInfo } from './object-info.ts';
import { ARTIFACT_FORMAT, extractRelocations, type Artifact, type ArtifactTable } from './artifact.ts';
import os from 'node:os';

export interface CompileRequest {
  text: string;
  cflags: string[];
  includeDirs: string[];
  debug: number;
  /** The cache key, recorded in the artifact. */
  key: string;
}

export function compileInProcess(req: CompileRequest): Artifact {
  const bcc = libbcc();
  const mapsBefore = new Set(loadedMapIds());
  const compiled = captureOutput(() =>
    bcc.module_create_c_from_string(req.text, req.debug, req.cflags, req.cflags.length, true, null));
  const programPaths = [MAIN_FILE, ...req.includeDirs.map((d) => path.resolve(d))];
  const diagnostics = relevantDiagnostics(parseDiagnostics(compiled.output), programPaths);
  if (!compiled.result) throw compileError(compiled.output, compiled.errno, diagnostics);
  const module = compiled.result;
  try {
    const tables: ArtifactTable[] = [];
    const tableByFd = new Map<number, number>();
    const tableCount = Number(bcc.num_tables(module));
    for (let id = 0; id < tableCount; id++) {
      const name = bcc.table_name(module, id) as string;
      const fd = bcc.table_fd_id(module, id) as number;
      const fieldCount = Number(bcc.perf_event_fields(module, name));
      const table: ArtifactTable = {
        name,
        type: bcc.table_type_id(module, id) as number,
        keySize: Number(bcc.table_key_size_id(module, id)),
        leafSize: Number(bcc.table_leaf_size_id(module, id)),
        maxEntries: Number(bcc.table_max_entries_id(module, id)),
        flags: bcc.table_flags_id(module, id) as number,
        keyDesc: (bcc.table_key_desc_id(module, id) as string | null) ?? '',
        leafDesc: (bcc.table_leaf_desc_id(module, id) as string | null) ?? '',
        eventFields: fieldCount > 0 ? Array.from({ length: fieldCount }, (_, i) => bcc.perf_event_field(module, name, i) as string) : null,
      };
      if (fd >= 0) {
        const mapId = mapInfo(fd).id;
        if (mapsBefore.has(mapId)) table.externalMapId = mapId;
        if (!tableByFd.has(fd)) tableByFd.set(fd, tables.length);
      }
      tables.push(table);
    }
    const functionCount = Number(bcc.num_functions(module));
    const functions = Array.from({ length: functionCount }, (_, i) => {
      const name = bcc.function_name(module, i) as string;
      const insns = Buffer.alloc(Number(bcc.function_size(module, name)));
      libc.memcpy(insns, bcc.function_start(module, name), insns.length);
      const relocations = extractRelocations(insns, tableByFd);
      return { name, insns: insns.toString('base64'), relocations };
    });
    return {
      format: ARTIFACT_FORMAT,
      key: req.key,
      kernelRelease: os.release(),
      libbccVersion: bcc.version,
      license: bcc.module_license(module) as string,
      kernVersion: bcc.module_kern_version(module) as number,
      functions,
      tables,
      warnings: formatDiagnostics(diagnostics),
    };
  } finally {
    bcc.module_destroy(module);
  }
}

function compileError(output: string, errno: number, diagnostics: Diagnostic[]): BpfError {
  if (/Unable to find kernel headers/.test(output)) {
    return new BpfError('HEADERS_MISSING', 'libbcc found no kernel headers: run `make deps`', { log: output });
  }
  const errors = diagnostics.filter((d) => d.severity !== 'warning');
  if (errors.length === 0) {
    // The C compiled but libbcc failed afterwards, typically creating a map.
    if (errno === EPERM && process.geteuid?.() !== 0) return new BpfError('NOT_ROOT', 'creating BPF maps needs root', { errno });
    const detail = output.trim().split('\n').filter(Boolean).pop() ?? (errno ? errnoMessage(errno) : 'unknown error');
    return new BpfError('LOAD', `libbcc failed to create the module: ${detail}`, { errno, log: output });
  }
  const first = errors[0];
  const where = first.file === MAIN_FILE ? `line ${first.line}` : `${first.file}:${first.line}`;
  return new BpfError('COMPILE', `compile error at ${where}: ${first.message}`, { log: formatDiagnostics(errors) });
}
