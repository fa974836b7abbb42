import { createConnection, createServer } from 'node:net';

/**
 * A TCP proxy to PostgreSQL, run as a process of its own so that a test can freeze it (SIGSTOP):
 * connections stay open and nothing flows, as when a network stalls. Prints its port when ready.
 */
const [targetPort = '5432'] = process.argv.slice(2);
const server = createServer((inbound) => {
  const outbound = createConnection(Number(targetPort), '127.0.0.1');
  inbound.pipe(outbound).pipe(inbound);
  inbound.on('error', () => outbound.destroy());
  outbound.on('error', () => inbound.destroy());
  inbound.on('close', () => outbound.destroy());
  outbound.on('close', () => inbound.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
