// bpfkit/inet_flow.h, the flow every network tool puts in its records: filled from the TCP state
// machine's tracepoint for real loopback connections (IPv4 and IPv6), and read back at the
// offsets lib/output/inet.ts decodes it with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BPF } from 'bcc-node-bindings';
import { needsBpf } from '../helpers/kernel.ts';
import { structFields } from '../helpers/bpf.ts';
import { workload } from '../helpers/workloads.ts';
import { inlineHeaders } from '../../lib/run/program.ts';
import { BPF_INCLUDE_DIR } from '../../lib/run/paths.ts';
import { FLOW_OFFSETS, FLOW_SIZE, formatAddress } from '../../lib/output/inet.ts';

// Each ESTABLISHED transition, keyed by the local port, as the flow the header fills.
const SOURCE = `#include "bpfkit/inet_flow.h"
BPF_HASH(flows, u32, struct bpfkit_flow, 64);
TRACEPOINT_PROBE(sock, inet_sock_set_state) {
    if (args->protocol != 6 /* IPPROTO_TCP */ || args->newstate != 1)
        return 0;
    struct bpfkit_flow flow;
    BPFKIT_FLOW_FROM_TP(flow, args);
    u32 lport = flow.lport;
    flows.update(&lport, &flow);
    return 0;
}`;

test('bpfkit/inet_flow.h fills struct bpfkit_flow from the state machine, at the offsets readFlow reads', async (t) => {
  if (!needsBpf(t)) return;
  const text = inlineHeaders(SOURCE, 'inet-flow-test.bpf.c', (name) => fs.readFileSync(path.join(BPF_INCLUDE_DIR, name), 'utf8'));
  const bpf = new BPF({ text });
  try {
    const fields = structFields(bpf, 'flows');
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.name, f.offset])), { ...FLOW_OFFSETS, pad: 38 });
    assert.equal(bpf.table('flows').info.leafSize, FLOW_SIZE);

    const flows = bpf.table('flows');
    for (const [addr, family] of [['127.0.0.1', 2], ['::1', 10]] as const) {
      // One connection; the client prints its local port, the server its listening port.
      const out = execFileSync(workload('tcpflows'), ['pair', addr, '1', '10', '20'], { encoding: 'utf8' });
      const port = Number(/^server \d+ (\d+)$/m.exec(out)![1]);
      const lport = Number(/^client \d+ (\d+)$/m.exec(out)![1]);
      // Both ends reach ESTABLISHED: the client's socket (lport → port) and the server's child.
      const client = flows.get(lport) as { laddr: number[]; raddr: number[]; lport: number; rport: number; family: number };
      const server = flows.get(port) as typeof client;
      assert.ok(client && server, `no flow for ${addr}`);
      for (const [flow, local, remote] of [[client, lport, port], [server, port, lport]] as const) {
        assert.equal(flow.family, family);
        assert.deepEqual([flow.lport, flow.rport], [local, remote]);
        assert.equal(formatAddress(flow.family, flow.laddr), addr);
        assert.equal(formatAddress(flow.family, flow.raddr), addr);
      }
    }
  } finally {
    bpf.close();
  }
});
