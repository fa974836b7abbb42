import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export interface RunningServer {
  url: string;
  /** Everything the server logged so far (stderr). */
  logs(): string;
  /** The admin key the first start of its ledger printed, if it printed one. */
  adminKey: string | null;
  /** Whether the process is still running (it has not exited on its own). */
  alive(): boolean;
  stop(): Promise<void>;
  /** Kills the process with a signal (SIGKILL: no clean-up at all) and waits for its end. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `ledger serve` as its own process, as an operator does, and waits for /health. */
export async function startServer(env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, 'serve'], {
    // LEDGER_VALIDATE_RESPONSES: every answer checked against the API document, as in-process apps are.
    env: { ...env, PORT: String(port), LOG_LEVEL: 'info', LEDGER_VALIDATE_RESPONSES: '1' },
  });
  let logs = '';
  child.stderr?.on('data', (chunk) => (logs += chunk));
  child.stdout?.on('data', (chunk) => (logs += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // A process that ended (it refused to start) will not answer: say why at once.
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (exited || Date.now() > deadline) throw new Error(`server did not start: ${logs}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const ended = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return {
    url,
    logs: () => logs,
    adminKey: /cl_K-[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(logs)?.[0] ?? null,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => ended('SIGTERM'),
    kill: (signal) => ended(signal),
  };
}
