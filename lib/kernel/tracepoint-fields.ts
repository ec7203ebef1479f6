// The fields a tracepoint has on the running kernel, read from tracefs' format file. oomkill
// needs it because oom:mark_victim exists on old and new kernels with different fields (only the
// PID before Linux 6.9), and bcc builds a TRACEPOINT_PROBE's `args` from that file: reading a
// field the kernel lacks fails to compile. (KernelView has no such question yet: this belongs in
// lib/kernel/view.ts as `tracepointFields`, once a second tool needs it.)
import fs from 'node:fs';
import { ensureTracefs, tracefsPath } from 'bcc-node-bindings';

/** The field names after the common header ("pid", "comm", …), or null when there is no such tracepoint. */
export function tracepointFields(category: string, event: string): string[] | null {
  const root = tracefsPath() ?? ensureTracefs(`looking up tracepoint ${category}:${event}`);
  let text: string;
  try {
    text = fs.readFileSync(`${root}/events/${category}/${event}/format`, 'utf8');
  } catch {
    return null;
  }
  return parseFormatFields(text);
}

/** The names of a format file's fields, without the common_* ones every event has. */
export function parseFormatFields(format: string): string[] {
  const names: string[] = [];
  for (const m of format.matchAll(/^\s*field:([^;]+);/gm)) {
    // "unsigned long total_vm", "__data_loc char[] comm", "char comm[16]": the name is the last word, less any [N].
    const name = m[1].trim().split(/\s+/).pop()!.replace(/\[.*$/, '');
    if (!name.startsWith('common_')) names.push(name);
  }
  return names;
}
