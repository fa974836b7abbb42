import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { OnLogMismatch } from './projections/runner.js';
import { readSiteConfig, type SiteConfig } from './site-config.js';

/**
 * LEDGER_DATABASE_TIMEOUT's default: far above any one statement of a healthy database, yet short
 * enough that a client waiting on a stalled one gets its 503 before its own time-out.
 */
const DEFAULT_DATABASE_TIMEOUT_SECONDS = 10;
/** LEDGER_NATS_URL's default: a NATS server on this machine. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** LEDGER_NATS_STREAM's default: the JetStream stream that takes the NATS subscribers' subjects. */
export const DEFAULT_NATS_STREAM = 'LEDGER';
/** PORT's default. */
export const DEFAULT_PORT = 8080;

/**
 * Runtime configuration, read once from the environment (README "Configuration"); with the
 * person's pages' own (SiteConfig: LEDGER_PUBLIC_URL, LEDGER_INSTITUTION_NAME, LEDGER_PRIVACY_POLICY_URL).
 */
export interface LedgerConfig extends SiteConfig {
  /** LEDGER_DATA_DIR: where the embedded default keeps events.db, keys.db and state.db. */
  dataDir: string;
  /** LEDGER_STORE: the event store backend. */
  store: StoreKind;
  /** LEDGER_DATABASE_URL: PostgreSQL of the events (postgres), read models and checkpoints (postgres, eventstoredb). */
  databaseUrl?: string;
  /** LEDGER_DATABASE_SCHEMA: the schema of those tables. */
  databaseSchema: string;
  /** LEDGER_KEYS_DATABASE_URL: PostgreSQL of the keys; default LEDGER_DATABASE_URL. */
  keysDatabaseUrl?: string;
  /** LEDGER_AUDIT_KEY_FILE: the Ed25519 private key that signs log checkpoints (created when missing). */
  auditKeyFile: string;
  /** LEDGER_FORGET_JOURNAL: the signed journal of forgotten scopes (default beside the master key file). */
  forgetJournal: string;
  /** LEDGER_CHECKPOINT_MINUTES: how often `serve` records a signed checkpoint in the log (0: never). */
  checkpointMinutes: number;
  /** LEDGER_DELIVERY_ATTEMPTS: attempts of one message to a subscriber before it is a dead letter (default 30). */
  deliveryAttempts?: number;
  /** LEDGER_DELIVERY_BACKOFF_MS: the wait after a message's first failed attempt, doubling after each (default 500). */
  deliveryBackoffMs?: number;
  /** LEDGER_DELIVERY_MAX_BACKOFF_MS: the longest wait between two attempts of a message (default 60,000). */
  deliveryMaxBackoffMs?: number;
  /** LEDGER_DELIVERY_IN_FLIGHT: messages of one subscriber sent at once, those of one contact in turn (default 8). */
  deliveryInFlight?: number;
  /** LEDGER_NATS_IN_FLIGHT: messages of one NATS subscriber published at once, acks awaited together (default 128). */
  natsInFlight?: number;
  /** LEDGER_NATS_URL: the NATS server of the NATS subscribers (connected to only when there is one). */
  natsUrl: string;
  /** LEDGER_NATS_STREAM: the JetStream stream their subjects are added to. */
  natsStream: string;
  /** How the ledger's PostgreSQL connections are named (pg_stat_activity.application_name). */
  databaseApplicationName: string;
  /** LEDGER_DATABASE_TIMEOUT (seconds): the longest PostgreSQL may take to connect, or to answer one statement. */
  databaseTimeoutMs: number;
  /** LEDGER_KEYS_SCHEMA: the keys' own schema. */
  keysSchema: string;
  /** ESDB_CONNECTION_STRING: the EventStoreDB / KurrentDB cluster (eventstoredb). */
  esdbConnectionString?: string;
  /** LEDGER_ESDB_STREAM_PREFIX: prepended to the ledger's stream names in EventStoreDB. */
  esdbStreamPrefix: string;
  /** LEDGER_MASTER_KEY: base64 master key (32 bytes). */
  masterKey?: string;
  /** LEDGER_MASTER_KEY_FILE: file holding the base64 master key. */
  masterKeyFile?: string;
  /** LEDGER_MASTER_KEY_COMMAND: a command printing the base64 master key (KMS, Vault); never logged. */
  masterKeyCommand?: string;
  /** HOST / PORT of the HTTP API. Loopback by default: expose it on purpose. */
  host: string;
  port: number;
  /** LEDGER_ALLOWED_HOSTS: the Host names the API answers to (default: HOST, localhost, 127.0.0.1, ::1). */
  allowedHosts: string[];
  /** LEDGER_TRUST_PROXY: the proxies whose X-Forwarded-For names the client (default: none). */
  trustProxy: TrustProxy;
  /** LEDGER_TEXT_GUARD: warn about special-category or judgemental wording in notes, or reject it. */
  textGuard: 'warn' | 'reject';
  /** LEDGER_MAX_BODY: largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** LOG_LEVEL: pino level. */
  logLevel: string;
  /** LEDGER_ON_LOG_MISMATCH: read models folded from another log (a restore) are rebuilt, or refused. */
  onLogMismatch: OnLogMismatch;
}

/** Express's `trust proxy`: none, a number of hops, or the proxies' addresses and subnets. */
export type TrustProxy = false | number | string[];
/** The address ranges express names (proxy-addr): loopback, link-local and unique-local addresses. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * LEDGER_TRUST_PROXY, for a ledger behind a reverse proxy: without it, every person would have
 * the proxy's address (one rate-limit budget for all, the proxy's IP sealed as their evidence);
 * with it trusted blindly, anyone could name any address in X-Forwarded-For. So: `false` (the
 * default), a number of hops in front of the ledger, or the proxies' addresses, subnets
 * (10.0.0.0/8) and named ranges (loopback), comma-separated.
 */
export function readTrustProxy(value: string | undefined): TrustProxy {
  const trimmed = (value ?? '').trim();
  if (trimmed === '' || trimmed === 'false') return false;
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    if (hops < 1 || hops > 10) throw new Error('LEDGER_TRUST_PROXY must be a number of hops from 1 to 10');
    return hops;
  }
  const entries = trimmed.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const version = isIP(address);
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
    if (!NAMED_RANGES.includes(entry) && (version === 0 || !prefixOk || rest.length > 0)) {
      throw new Error(
        `LEDGER_TRUST_PROXY must be false, a number of hops, or addresses, subnets and ${NAMED_RANGES.join(', ')}, ` +
          `comma-separated: "${entry}" is none of them`,
      );
    }
  }
  return entries;
}

/** The embedded default's files in the data directory (README "Configuration"). */
export const sqliteFiles = (dataDir: string) => ({
  events: join(dataDir, 'events.db'),
  keys: join(dataDir, 'keys.db'),
  state: join(dataDir, 'state.db'),
});

/** A NATS server's url: nats:// or tls://, a host, a port or not, nothing after (a user and password allowed). */
function isNatsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'nats:' || url.protocol === 'tls:') &&
      url.hostname !== '' &&
      (url.pathname === '' || url.pathname === '/') &&
      url.search === '' &&
      url.hash === ''
    );
  } catch {
    return false;
  }
}

/** A whole number of `unit` from 1 to `max`, or undefined when the variable is not set. */
function readCount(env: NodeJS.ProcessEnv, name: string, max: number, unit: string): number | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value) || Number(value) > max)
    throw new Error(`${name} must be a number of ${unit} from 1 to ${max}`);
  return Number(value);
}

export const STORE_KINDS = ['sqlite', 'postgres', 'eventstoredb'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export function readConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const store = (env['LEDGER_STORE'] ?? 'sqlite') as StoreKind;
  if (!STORE_KINDS.includes(store))
    throw new Error(`LEDGER_STORE must be one of ${STORE_KINDS.join(', ')}, got ${store}`);
  const databaseUrl = env['LEDGER_DATABASE_URL'];
  if (store !== 'sqlite' && !databaseUrl)
    throw new Error(`LEDGER_STORE=${store} needs LEDGER_DATABASE_URL (PostgreSQL)`);
  const esdbConnectionString = env['ESDB_CONNECTION_STRING'];
  if (store === 'eventstoredb' && !esdbConnectionString)
    throw new Error('LEDGER_STORE=eventstoredb needs ESDB_CONNECTION_STRING');
  const databaseSchema = env['LEDGER_DATABASE_SCHEMA'] ?? 'ledger';
  const keysSchema = env['LEDGER_KEYS_SCHEMA'] ?? 'ledger_keys';
  const keysDatabaseUrl = env['LEDGER_KEYS_DATABASE_URL'] ?? databaseUrl;
  if (keysDatabaseUrl === databaseUrl && keysSchema === databaseSchema) {
    throw new Error('LEDGER_KEYS_SCHEMA must differ from LEDGER_DATABASE_SCHEMA: the keys live apart from the events');
  }
  const host = env['HOST'] ?? '127.0.0.1';
  const textGuard = env['LEDGER_TEXT_GUARD'] ?? 'warn';
  if (textGuard !== 'warn' && textGuard !== 'reject') {
    throw new Error(`LEDGER_TEXT_GUARD must be warn or reject, got ${textGuard}`);
  }
  const port = Number(env['PORT'] ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env['PORT']}`);
  const maxBodyBytes = Number(env['LEDGER_MAX_BODY'] ?? 8 * 1024 * 1024);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0)
    throw new Error('LEDGER_MAX_BODY must be a positive number of bytes');
  const onLogMismatch = env['LEDGER_ON_LOG_MISMATCH'] ?? 'rebuild';
  if (onLogMismatch !== 'rebuild' && onLogMismatch !== 'refuse') {
    throw new Error(`LEDGER_ON_LOG_MISMATCH must be rebuild or refuse, got ${onLogMismatch}`);
  }
  const databaseTimeout = Number(env['LEDGER_DATABASE_TIMEOUT'] ?? DEFAULT_DATABASE_TIMEOUT_SECONDS);
  if (!Number.isFinite(databaseTimeout) || databaseTimeout <= 0)
    throw new Error('LEDGER_DATABASE_TIMEOUT must be a positive number of seconds');
  const dataDir = resolve(env['LEDGER_DATA_DIR'] ?? './data');
  const checkpointMinutes = Number(env['LEDGER_CHECKPOINT_MINUTES'] ?? 60);
  if (!Number.isFinite(checkpointMinutes) || checkpointMinutes < 0)
    throw new Error('LEDGER_CHECKPOINT_MINUTES must be a number of minutes, 0 for never');
  const deliveryAttempts = readCount(env, 'LEDGER_DELIVERY_ATTEMPTS', 9999, 'attempts');
  const deliveryBackoffMs = readCount(env, 'LEDGER_DELIVERY_BACKOFF_MS', 3_600_000, 'milliseconds');
  const deliveryMaxBackoffMs = readCount(env, 'LEDGER_DELIVERY_MAX_BACKOFF_MS', 3_600_000, 'milliseconds');
  const deliveryInFlight = readCount(env, 'LEDGER_DELIVERY_IN_FLIGHT', 999, 'messages');
  const natsInFlight = readCount(env, 'LEDGER_NATS_IN_FLIGHT', 9999, 'messages');
  const natsUrl = env['LEDGER_NATS_URL'] ?? DEFAULT_NATS_URL;
  if (!isNatsUrl(natsUrl)) throw new Error('LEDGER_NATS_URL must be a nats:// or tls:// url of a host, port optional');
  const natsStream = env['LEDGER_NATS_STREAM'] ?? DEFAULT_NATS_STREAM;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(natsStream))
    throw new Error('LEDGER_NATS_STREAM must be a JetStream stream name: letters, digits, _ and -');
  return {
    dataDir,
    natsUrl,
    natsStream,
    ...(deliveryAttempts !== undefined ? { deliveryAttempts } : {}),
    ...(deliveryBackoffMs !== undefined ? { deliveryBackoffMs } : {}),
    ...(deliveryMaxBackoffMs !== undefined ? { deliveryMaxBackoffMs } : {}),
    ...(deliveryInFlight !== undefined ? { deliveryInFlight } : {}),
    ...(natsInFlight !== undefined ? { natsInFlight } : {}),
    auditKeyFile: resolve(env['LEDGER_AUDIT_KEY_FILE'] ?? join(dataDir, 'audit.key')),
    // Beside the master key, apart from data backups: a restore must not roll it back with the data.
    forgetJournal: resolve(
      env['LEDGER_FORGET_JOURNAL'] ??
        join(env['LEDGER_MASTER_KEY_FILE'] ? dirname(env['LEDGER_MASTER_KEY_FILE']) : dataDir, 'forget-journal.jsonl'),
    ),
    checkpointMinutes,
    store,
    ...(databaseUrl ? { databaseUrl } : {}),
    databaseSchema,
    ...(keysDatabaseUrl ? { keysDatabaseUrl } : {}),
    keysSchema,
    databaseApplicationName: env['LEDGER_DATABASE_APPLICATION_NAME'] ?? 'contact-ledger',
    databaseTimeoutMs: databaseTimeout * 1000,
    ...(esdbConnectionString ? { esdbConnectionString } : {}),
    esdbStreamPrefix: env['LEDGER_ESDB_STREAM_PREFIX'] ?? '',
    ...(env['LEDGER_MASTER_KEY'] ? { masterKey: env['LEDGER_MASTER_KEY'] } : {}),
    ...(env['LEDGER_MASTER_KEY_FILE'] ? { masterKeyFile: env['LEDGER_MASTER_KEY_FILE'] } : {}),
    ...(env['LEDGER_MASTER_KEY_COMMAND'] ? { masterKeyCommand: env['LEDGER_MASTER_KEY_COMMAND'] } : {}),
    host,
    allowedHosts: env['LEDGER_ALLOWED_HOSTS']
      ? env['LEDGER_ALLOWED_HOSTS']
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : [...new Set([host, 'localhost', '127.0.0.1', '::1'])],
    port,
    trustProxy: readTrustProxy(env['LEDGER_TRUST_PROXY']),
    ...readSiteConfig(env, port),
    maxBodyBytes,
    textGuard,
    logLevel: env['LOG_LEVEL'] ?? 'info',
    onLogMismatch,
  };
}
