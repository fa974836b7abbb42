import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP receiver on loopback: it answers `status` (200 by default) after `delayMs`, and
 * records what it was sent. `down` stops it listening (connections refused), `up` listens again
 * on the same port.
 */
export async function startReceiver() {
  const received: Received[] = [];
  const receiver = {
    received,
    status: 200,
    delayMs: 0,
    url: '',
    attempts: 0,
    close: async () => {},
    down: async () => {},
    up: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = () => {
        receiver.attempts++;
        if (receiver.status < 300)
          received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(receiver.status).end('receiver body: never kept');
      };
      if (receiver.delayMs > 0) setTimeout(answer, receiver.delayMs);
      else answer();
    });
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hooks/ledger?token=t0k3n`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  receiver.down = receiver.close;
  receiver.up = () => listen(port);
  return receiver;
}

/** Waits for a condition, polling. */
export const until = async (condition: () => boolean | Promise<boolean>, what: string, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
