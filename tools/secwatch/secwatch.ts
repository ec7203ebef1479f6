#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// secwatch  Raise Falco-style alerts from rules on system calls, and kill or deny in the kernel.
//           Rules (tools/secwatch/default-rules.yaml, plus --rules FILE) name an event (exec,
//           open, connect, ptrace, module, chmod, link, dup, bpf, truncate) and conditions on
//           it; the kernel decides them with maps and sends only the events that match.
//
// USAGE: secwatch [-h] [--rules FILE] [--list-rules] [--only ID,...] [--skip ID,...]
//                 [--kill ID,...] [--deny ID,...] [--dry-run] [-p PID] [--json] [--metrics ADDR]
//
// The rules, what kill and deny do, the differences from Falco and the JSON: tools/secwatch/README.md;
// real runs: tools/secwatch/secwatch_example.txt.
import os from 'node:os';
import { runTool } from '../../lib/run/tool.ts';
import { UsageError } from '../../lib/run/cli.ts';
import { startMetrics } from '../../lib/metrics/agent.ts';
import { openEvents, type EventChannel } from '../../lib/run/event-channel.ts';
import { EventClock, LineBatch, streamUntilStopped } from '../../lib/run/event-output.ts';
import { spec, type Options } from './options.ts';
import { listRules, loadRules, userSpaceHolds } from './rules.ts';
import { configureSecwatch } from './program.ts';
import { decodeAlertRecord } from './events.ts';
import { alertJson, alertLine, enforcedAction, outcomeOf, wallTime, type Alert } from './alerts.ts';
import { secwatchCollector } from './metrics.ts';

/** The wait after an alert's record arrives before the buffer is read (alerts are rare and urgent). */
const ALERT_DELAY_MS = 1;

await runTool<Options>(spec, async (ctx) => {
  const o = ctx.opts;
  const rules = loadRules({ files: o.rules, only: o.only, skip: o.skip, kill: o.kill, deny: o.deny });
  if (o['list-rules']) {
    ctx.print(listRules(rules, o.verbose));
    return;
  }
  if (!rules.length) throw new UsageError('no rules left to watch (--only and --skip left none, or the rules files disabled them all)');
  const metrics = await startMetrics(ctx);
  const printing = !metrics?.only;
  const program = configureSecwatch({ rules, pid: o.pid, dryRun: o['dry-run'], events: printing, self: process.pid });
  const bpf = ctx.load({ ...program, autoAttach: false });
  for (const { rule, reason } of program.inactive) ctx.warn(`rule ${rule.id} is inactive here: ${reason}`);

  // Kernel matches that a condition only user space decides (path_suffix) turned down, per rule.
  const rejected = new Map<number, bigint>();
  let events: EventChannel | null = null;
  if (metrics) {
    metrics.add(secwatchCollector(bpf, rules, metrics.seriesLimit, {
      rejected, lost: () => events?.lost() ?? 0n, get denyByLsm() { return program.deny.lsm; },
    }));
  }
  if (!printing) {
    ctx.attach(bpf, program);
    await metrics!.serveUntilStopped();
    return;
  }

  const hostname = os.hostname();
  const times = new EventClock();
  const out = new LineBatch(ctx.print);
  const fallbackSaid = new Set<string>();
  const onRecord = (record: Buffer) => {
    const event = decodeAlertRecord(record);
    rules.forEach((rule, bit) => {
      if (!(event.matched & (1n << BigInt(bit)))) return;
      if (!userSpaceHolds(rule, event)) {
        rejected.set(bit, (rejected.get(bit) ?? 0n) + 1n);
        return;
      }
      const enforced = enforcedAction(rule, program.deny.lsm);
      const alert: Alert = {
        rule, event, hostname, ...wallTime(times, event.ts),
        outcome: outcomeOf(event, bit, enforced) ?? (event.unresolved && enforced !== 'alert' && !o['dry-run'] ? 'not enforced' : undefined),
      };
      // Why a deny rule killed instead: said on its first alert.
      if (rule.action === 'deny' && !program.deny.lsm && !fallbackSaid.has(rule.id)) {
        fallbackSaid.add(rule.id);
        alert.fallback = program.deny.fallback;
      }
      out.push(o.json ? alertJson(alert) : alertLine(alert));
    });
  };
  // Open before attaching: a perf buffer drops what arrives before its readers exist. An alert is
  // read 1 ms after it arrives, not after the 50 ms the snoop tools batch for.
  events = openEvents(bpf, program.ringBuffer, onRecord, ALERT_DELAY_MS);
  await streamUntilStopped(ctx, bpf, program, events, {
    header: null, out, clock: times,
    attached() {
      if (program.deny.fallback && rules.some((r) => r.action === 'deny')) ctx.warn(`deny rules kill instead here: ${program.deny.fallback}`);
    },
  });
});
