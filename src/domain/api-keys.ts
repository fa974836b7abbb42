import { Forbidden, RuleViolation, UnknownApiKey, UnknownSubscriber, ValidationError } from './errors.js';
import { isOpaqueId } from './identifiers.js';

/**
 * API keys and their roles (DESIGN.md "Interfaces"): configuration events in the `api-keys`
 * stream, so every node sees a key issued or revoked at once, and the log says who could do
 * what, when. The log holds a key's SHA-256 hash, never its secret. A `subscriber` key is bound
 * to one downstream system by name (issue 27): it acknowledges that system's erasures, nothing else.
 */
export const API_KEYS_STREAM = 'api-keys';
export const ROLES = ['publisher', 'operator', 'auditor', 'batch', 'subscriber', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);

export interface ApiKeyRecord {
  keyId: string;
  role: Role;
  name: string | null;
  /** The subscriber a `subscriber` key speaks for; null for every other role. */
  subscriber: string | null;
  /** Hex SHA-256 of the secret. */
  secretHash: string;
  issuedAt: string;
  revokedAt: string | null;
}

export type ApiKeysState = ReadonlyMap<string, ApiKeyRecord>;

/** The events of the api-keys stream, as stored. */
export type ApiKeyEvent =
  | {
      type: 'ApiKeyIssued';
      occurredAt: string;
      data: { keyId: string; role: Role; name?: string; subscriber?: string; secretHash: string };
    }
  | { type: 'ApiKeyRevoked'; occurredAt: string; data: { keyId: string } };

export function evolveApiKeys(state: ApiKeysState, event: ApiKeyEvent): ApiKeysState {
  const next = new Map(state);
  switch (event.type) {
    case 'ApiKeyIssued': {
      const { keyId, role, name, subscriber, secretHash } = event.data;
      next.set(keyId, {
        keyId,
        role,
        name: name ?? null,
        subscriber: subscriber ?? null,
        secretHash,
        issuedAt: event.occurredAt,
        revokedAt: null,
      });
      return next;
    }
    case 'ApiKeyRevoked': {
      const known = next.get(event.data.keyId);
      if (known && known.revokedAt === null) next.set(known.keyId, { ...known, revokedAt: event.occurredAt });
      return next;
    }
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

export const foldApiKeys = (events: Iterable<ApiKeyEvent>): ApiKeysState => {
  let state: ApiKeysState = new Map();
  for (const event of events) state = evolveApiKeys(state, event);
  return state;
};

/** A key's label: a name for the system or person holding it, never personal data itself. */
function checkName(name: string | undefined): void {
  if (name !== undefined && (name.length > 64 || !isOpaqueId(name))) {
    throw new ValidationError(
      'the key name must be an opaque label (letters, digits, . _ : -; at most 64; not an e-mail or phone number)',
      [{ pointer: '/name', message: 'is not an opaque label' }],
    );
  }
}

/** A subscriber key names its subscriber, and only a subscriber key names one. */
function checkSubscriber(role: Role, subscriber: string | undefined): void {
  if (role === 'subscriber' && subscriber === undefined) {
    throw new ValidationError('a subscriber key is bound to a subscriber: name it (--subscriber NAME)', [
      { pointer: '/subscriber', message: 'is required for the role subscriber' },
    ]);
  }
  if (role !== 'subscriber' && subscriber !== undefined) {
    throw new ValidationError(`only a key of the role subscriber names a subscriber (this one is ${role})`, [
      { pointer: '/subscriber', message: 'is taken by the role subscriber only' },
    ]);
  }
}

/**
 * Issues a key: its role, label and subscriber are checked; the secret was drawn by the caller.
 * A subscriber key names a subscriber configured now (`subscribers`: their names), so that a typo
 * is not a key that can do nothing. `onlyIfNone` (the first start's admin key): nothing is issued
 * when any key exists.
 */
export function decideIssue(
  state: ApiKeysState,
  command: {
    keyId: string;
    role: string;
    name?: string;
    subscriber?: string;
    secretHash: string;
    onlyIfNone?: boolean;
  },
  subscribers: ReadonlySet<string> = new Set(),
): Extract<ApiKeyEvent, { type: 'ApiKeyIssued' }>['data'] | null {
  if (command.onlyIfNone && state.size > 0) return null;
  if (!isRole(command.role)) {
    throw new ValidationError(`the role must be one of ${ROLES.join(', ')}`, [
      { pointer: '/role', message: 'is not a role' },
    ]);
  }
  checkName(command.name);
  const { keyId, name, subscriber, secretHash } = command;
  checkSubscriber(command.role, subscriber);
  if (subscriber !== undefined && !subscribers.has(subscriber)) throw new UnknownSubscriber(subscriber);
  if (state.has(keyId)) throw new RuleViolation('that key id is taken', 'issue the key again');
  return {
    keyId,
    role: command.role,
    ...(name !== undefined ? { name } : {}),
    ...(subscriber !== undefined ? { subscriber } : {}),
    secretHash,
  };
}

/** Revokes a key; revoking a revoked key changes nothing. */
export function decideRevoke(state: ApiKeysState, keyId: string): Array<{ keyId: string }> {
  const known = state.get(keyId);
  if (!known) throw new UnknownApiKey(keyId);
  return known.revokedAt === null ? [{ keyId }] : [];
}

/**
 * Whether a key of `role` may use a route that requires `required` (`any`: any role, as /metrics
 * off loopback): an admin may do everything; a subscriber key only the subscriber routes (least
 * privilege: a downstream system's key reads nothing of the ledger, not even its API document).
 */
export const mayUse = (role: Role, required: Role | 'any'): boolean =>
  required === 'any' ? role !== 'subscriber' : role === required || role === 'admin';

/**
 * A subscriber key acts for its own subscriber only (403 for another's routes); an admin key for
 * every subscriber.
 */
export function requireOwnSubscriber(key: { role: Role; subscriber: string | null }, name: string): void {
  if (key.role === 'subscriber' && key.subscriber !== name) {
    throw new Forbidden(key.role, `subscriber ${name}`, 'a subscriber key acts for its own subscriber only');
  }
}
