import { resolve } from 'node:path';

/** Runtime configuration, read once from the environment (README "Configuration"). */
export interface LedgerConfig {
  /** LEDGER_DATA_DIR: where the embedded default keeps events.db, keys.db and state.db. */
  dataDir: string;
  /** LEDGER_STORE: the event store backend. */
  store: 'sqlite';
  /** LEDGER_MASTER_KEY: base64 master key (32 bytes). */
  masterKey?: string;
  /** LEDGER_MASTER_KEY_FILE: file holding the base64 master key. */
  masterKeyFile?: string;
  /** HOST / PORT of the HTTP API. Loopback by default: expose it on purpose. */
  host: string;
  port: number;
  /** LEDGER_MAX_BODY: largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** LOG_LEVEL: pino level. */
  logLevel: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const store = env['LEDGER_STORE'] ?? 'sqlite';
  if (store !== 'sqlite') throw new Error(`LEDGER_STORE=${store} is not supported yet (sqlite)`);
  const port = Number(env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env['PORT']}`);
  const maxBodyBytes = Number(env['LEDGER_MAX_BODY'] ?? 8 * 1024 * 1024);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new Error('LEDGER_MAX_BODY must be a positive number of bytes');
  return {
    dataDir: resolve(env['LEDGER_DATA_DIR'] ?? './data'),
    store,
    ...(env['LEDGER_MASTER_KEY'] ? { masterKey: env['LEDGER_MASTER_KEY'] } : {}),
    ...(env['LEDGER_MASTER_KEY_FILE'] ? { masterKeyFile: env['LEDGER_MASTER_KEY_FILE'] } : {}),
    host: env['HOST'] ?? '127.0.0.1',
    port,
    maxBodyBytes,
    logLevel: env['LOG_LEVEL'] ?? 'info',
  };
}
