import { execFileSync } from 'node:child_process';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { decrypt, encrypt } from './aead.js';

/**
 * The master key wraps every data key. Its id (a keyed fingerprint, not the key) travels with
 * each wrapped key so that the master key can be rotated by re-wrapping only.
 */
export class MasterKey {
  readonly id: string;
  private constructor(private readonly key: Buffer) {
    this.id = createHmac('sha256', key).update('contact-ledger master key id').digest('hex').slice(0, 16);
  }

  static fromBase64(encoded: string, origin: string): MasterKey {
    const key = Buffer.from(encoded.trim(), 'base64');
    if (key.length !== 32)
      throw new Error(`${origin}: the master key must be 32 bytes in base64 (got ${key.length} bytes)`);
    return new MasterKey(key);
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }

  toBase64(): string {
    return this.key.toString('base64');
  }

  /** A subkey for one purpose (HKDF-SHA256): the master key itself never leaves this class. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `contact-ledger ${purpose}`, 32));
  }

  /** Wrapped layout: iv (12) | tag (16) | ciphertext (32); bound to the scope and key id. */
  wrap(dataKey: Buffer, scope: string, keyId: string): Buffer {
    const box = encrypt(this.key, dataKey, this.additionalData(scope, keyId));
    return Buffer.concat([box.iv, box.tag, box.ciphertext]);
  }

  unwrap(wrapped: Buffer, scope: string, keyId: string): Buffer {
    return decrypt(
      this.key,
      { iv: wrapped.subarray(0, 12), tag: wrapped.subarray(12, 28), ciphertext: wrapped.subarray(28) },
      this.additionalData(scope, keyId),
    );
  }

  /**
   * The next master key wrapped by this one: the bridge a rotation leaves in the key database, so
   * that a process still running on this key opens keys already re-wrapped, and wraps new ones
   * with the next key, until it restarts on it.
   */
  wrapNext(next: MasterKey): Buffer {
    return this.wrap(next.key, 'master key', next.id);
  }

  /** Opens a bridge made by wrapNext; throws when it was not made by this key for that id. */
  openNext(wrapped: Buffer, nextId: string): MasterKey {
    const next = new MasterKey(this.unwrap(wrapped, 'master key', nextId));
    if (next.id !== nextId) throw new Error(`the bridge does not hold master key ${nextId}`);
    return next;
  }

  private additionalData(scope: string, keyId: string): Buffer {
    return Buffer.from(`${this.id}\n${scope}\n${keyId}`, 'utf8');
  }
}

export interface MasterKeySource {
  /** LEDGER_MASTER_KEY: base64, 32 bytes. */
  masterKey?: string | undefined;
  /** LEDGER_MASTER_KEY_COMMAND: a shell command that prints the base64 key (a KMS or Vault CLI). */
  masterKeyCommand?: string | undefined;
  /** LEDGER_MASTER_KEY_FILE: a file holding the base64 key. */
  masterKeyFile?: string | undefined;
  /** Where the embedded default keeps the key file it creates on first start. */
  defaultKeyFile?: string | undefined;
}

/**
 * Loads the master key from the environment or a file; the embedded default creates a key file
 * (mode 0600) on first start and tells `onCreated` where, never what.
 */
export function loadMasterKey(source: MasterKeySource, onCreated: (path: string) => void = () => {}): MasterKey {
  const given = (['masterKey', 'masterKeyCommand', 'masterKeyFile'] as const).filter((name) => source[name]);
  if (given.length > 1) {
    throw new Error('set one of LEDGER_MASTER_KEY, LEDGER_MASTER_KEY_COMMAND and LEDGER_MASTER_KEY_FILE, not several');
  }
  if (source.masterKey) return MasterKey.fromBase64(source.masterKey, 'LEDGER_MASTER_KEY');
  if (source.masterKeyCommand)
    return MasterKey.fromBase64(runKeyCommand(source.masterKeyCommand), 'LEDGER_MASTER_KEY_COMMAND');
  const file = source.masterKeyFile ?? source.defaultKeyFile;
  if (!file) throw new Error('no master key: set LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE');
  if (existsSync(file)) return MasterKey.fromBase64(readFileSync(file, 'utf8'), file);
  if (source.masterKeyFile) throw new Error(`LEDGER_MASTER_KEY_FILE ${file} does not exist`);
  const created = MasterKey.generate();
  writeFileSync(file, `${created.toBase64()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  onCreated(file);
  return created;
}

/**
 * Runs the command that prints the master key. Its output is the key: it is never logged nor put
 * in an error. Its error output is kept only when it fails (a KMS CLI says there why), cut short
 * and with any run of base64 long enough to be a key blanked out (a script under `set -x` echoes).
 */
function runKeyCommand(command: string): string {
  try {
    return execFileSync('/bin/sh', ['-c', command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
      maxBuffer: 64 * 1024,
    });
  } catch (error) {
    const { status, signal, stderr } = error as { status?: number | null; signal?: string | null; stderr?: string };
    const how = signal ? `was stopped by ${signal}` : `exited with status ${status ?? 'unknown'}`;
    const said = redactKeys(String(stderr ?? ''))
      .trim()
      .slice(0, 300);
    throw new Error(`LEDGER_MASTER_KEY_COMMAND ${how}: no master key${said ? ` (it said: ${said})` : ''}`);
  }
}

const redactKeys = (text: string) => text.replace(/[A-Za-z0-9+/_-]{32,}={0,2}/g, '[redacted]');
