// What the block-request core (lib/block/requests.ts) should choose on the running kernel, from
// its features as the tests read them, for the block tools' `--explain picks the attach points
// this kernel offers` tests: biosnoop, biotop and bitesize attach exactly these.
import { firstUsable } from './attach.ts';
import { kprobesAvailable, rawTracepointSupported, tracepointExists } from 'bcc-node-bindings';
import { kernelFunctionExists } from '../../lib/kernel/kallsyms.ts';

type Rung = [label: string, usable: () => boolean];

const raw = (event: string): Rung => [`raw tracepoint ${event}`, () => rawTracepointSupported() && tracepointExists('block', event)];
const tp = (event: string): Rung => [`tracepoint block:${event}`, () => tracepointExists('block', event)];
const kprobe = (fn: string): Rung => [`kprobe ${fn}`, () => kprobesAvailable() && kernelFunctionExists(fn)];

/** The core's choices by purpose, optional points that found nothing as 'none'. */
export function expectedBlockRequests(): Record<string, string> {
  const done = firstUsable('I/O completion', [raw('block_rq_complete'), tp('block_rq_complete'), kprobe('__blk_account_io_done'), kprobe('blk_account_io_done')]);
  // The other probes key requests as the completion's does: by address, or by (dev, sector) for tracepoints.
  const byDevSector = done.startsWith('tracepoint ');
  const same = (purpose: string, rungs: Rung[]) => firstUsable(purpose, rungs.filter(([label]) => label.startsWith('tracepoint ') === byDevSector));
  const optional = (purpose: string, rungs: Rung[]) => { try { return same(purpose, rungs); } catch { return 'none'; } };
  return {
    'I/O completion': done,
    'I/O issue': same('I/O issue', [raw('block_rq_issue'), tp('block_rq_issue'), kprobe('blk_mq_start_request')]),
    'I/O creation (its process)': optional('I/O creation', [raw('block_io_start'), kprobe('__blk_account_io_start'),
      kprobe('blk_account_io_start'), raw('block_rq_insert'), tp('block_io_start'), tp('block_rq_insert')]),
    requeue: optional('requeue', [raw('block_rq_requeue'), tp('block_rq_requeue')]),
    merge: optional('merge', [raw('block_rq_merge'), tp('block_rq_merge')]),
  };
}

/** --explain's choices with "none (why)" shortened to 'none', to compare with expectedBlockRequests(). */
export function shortChoices(chosen: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(chosen).map(([purpose, label]) => [purpose, label.replace(/^none \(.*\)$/, 'none')]));
}
