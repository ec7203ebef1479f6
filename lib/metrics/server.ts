// Serving metrics over HTTP: GET /metrics (values read from the BPF maps at scrape time, in the
// format the scraper asks for) and GET /healthz, nothing else. Binds to 127.0.0.1 unless told
// otherwise, drops clients that do not send a request within a few seconds, and answers a scrape
// that fails with 500 and one line, without ending the process.
import type { AddressInfo } from 'node:net';
import { CONTENT_TYPE, negotiate, render, type MetricFamily } from './exposition.ts';
import { UsageError } from '../run/cli.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

/** "9435", ":9435", "127.0.0.1:9435", "[::1]:9435", "0.0.0.0:9435". */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`expected [HOST:]PORT, got ${JSON.stringify(text)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`port ${port} out of range (1 to 65535)`);
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host: host || '127.0.0.1', port };
}

export interface MetricsServer {
  address: ListenAddress;
  close(): Promise<void>;
}

export async function serveMetrics(address: ListenAddress, collect: () => MetricFamily[]): Promise<MetricsServer> {
  // Loaded here, not at the top: a tool without --metrics should not pay for node:http at start.
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET', 'Content-Type': 'text/plain' }).end('only GET is served\n');
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    const format = negotiate(req.headers.accept);
    let body: string;
    try {
      body = render(collect(), format);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`scrape failed: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE[format] });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // A client that connects and sends nothing is dropped rather than held forever.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.setTimeout(15_000, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: address.host, port: bound.port },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
