#!/bin/sh
// 2>/dev/null; unset NODE_EXTRA_CA_CERTS; exec node --import "$(dirname "$(readlink -f "$0")")/../../node_modules/tsx/dist/loader.mjs" "$0" "$@"
// exporter  One node agent for Prometheus: several tools' programs in one process, all their
//           metrics on one port.
//
// USAGE: bpfkit exporter [-h] [--tools LIST] [--listen ADDR] [--series-limit N] [--explain] [--ebpf]
//
// Each tool's program is configured by that tool's own configuration function, with the
// exporter's settings (tools/<tool>/metrics.ts, exporterMetrics): the same C, defines and attach
// points the tool uses, so nothing is spelled twice. The families, deployment and security
// notes are in tools/exporter/README.md.
import { runTool, type ToolContext } from '../../lib/run/tool.ts';
import { buildProgram } from '../../lib/run/program.ts';
import { startMetrics, type Collector } from '../../lib/metrics/agent.ts';
import { spec, type Options } from './options.ts';

type ExporterMetrics = (ctx: ToolContext<unknown>, seriesLimit: number) => Collector | Promise<Collector>;

// Thrown past a tool's exporterMetrics once --ebpf has printed its program, to go on with the next.
const PRINTED = Symbol('printed');

await runTool<Options>(spec, async (ctx) => {
  const agent = ctx.opts.ebpf ? null : await startMetrics(ctx, ctx.opts.listen);
  for (const tool of ctx.opts.tools) {
    // The exporter's tools are those the registry marks `exporter` (checked by options.ts).
    const { exporterMetrics } = await import(`../${tool}/metrics.ts`) as { exporterMetrics: ExporterMetrics };
    try {
      const collector = await exporterMetrics(toolContext(ctx, tool), ctx.opts['series-limit']);
      agent?.add(collector);
    } catch (err) {
      if (err !== PRINTED) throw err;
    }
  }
  await agent?.serveUntilStopped();
});

/**
 * The exporter's context as one tool sees it: --ebpf prints every tool's program under its name
 * (instead of the first one only), --explain names the tool each block is about.
 */
function toolContext(ctx: ToolContext<Options>, tool: string): ToolContext<unknown> {
  const scoped: ToolContext<Options> = Object.create(ctx);
  scoped.load = (config) => {
    if (!ctx.opts.ebpf) return ctx.load(config);
    process.stdout.write(`/* ===== ${tool}: ${config.file} ===== */\n${buildProgram(config).text}\n`);
    throw PRINTED;
  };
  scoped.attached = (bpf, attachments) => {
    if (ctx.opts.explain) process.stderr.write(`=== ${tool} ===\n`);
    ctx.attached(bpf, attachments);
  };
  return scoped as unknown as ToolContext<unknown>;
}
