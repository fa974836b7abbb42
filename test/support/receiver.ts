import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** When it came, and when it was answered (ms, Date.now()). */
  arrivedAt: number;
  answeredAt: number;
}

/**
 * A real HTTP receiver on loopback: it answers `status` (200 by default) after `delayMs()` (none by
 * default), and records what it was sent (when it arrived, and when answered), and how many at once.
 * `down` stops it listening (connections refused), `up` listens again on the same port.
 */
export async function startReceiver() {
  const received: Received[] = [];
  const receiver = {
    received,
    status: 200,
    url: '',
    close: async () => {},
    attempts: 0,
    delayMs: (): number => 0,
    /** The status of a request, by its body: `status` unless set. */
    statusOf: (_body: string): number => receiver.status,
    /** Requests being answered now, and the most at once. */
    open: 0,
    mostOpen: 0,
    down: async () => {},
    up: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    const arrivedAt = Date.now();
    receiver.mostOpen = Math.max(receiver.mostOpen, ++receiver.open);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = () => {
        receiver.open--;
        receiver.attempts++;
        const body = Buffer.concat(chunks).toString('utf8');
        const status = receiver.statusOf(body);
        if (status < 300) received.push({ headers: req.headers, body, arrivedAt, answeredAt: Date.now() });
        res.writeHead(status).end('receiver body: never kept');
      };
      const delay = receiver.delayMs();
      if (delay > 0) setTimeout(answer, delay);
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
