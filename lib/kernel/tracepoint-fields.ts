// The fields a tracepoint has on the running kernel, read from tracefs' format file (KernelView's
// tracepointFields). Tracepoints gain fields across kernels (oom:mark_victim had only the PID
// before Linux 6.9; tcp:tcp_retransmit_skb got `err` in 6.10; skb:kfree_skb `rx_sk` in 6.12),
// and bcc builds a TRACEPOINT_PROBE's `args` from that file: reading a field the kernel lacks
// fails to compile, so a program reads one only under a #define the plan set from this list.
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
