// Ports and scrapes for the tests of --metrics and the exporter.
import http from 'node:http';
import net from 'node:net';

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function scrapeOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const REFUSED_RETRIES = 20;
const RETRY_DELAY_MS = 50;

/**
 * GET /metrics on a loopback port: the body. A refused connection is tried again for up to a
 * second: CI once saw a tool that had said "ready" (its endpoint listening) refuse the scrape
 * after it, once in ~2,000 runs; a tool that has died still fails, with the error.
 */
export async function scrape(port: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await scrapeOnce(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || attempt >= REFUSED_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }
}
