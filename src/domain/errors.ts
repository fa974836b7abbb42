import { isOpaqueId } from './identifiers.js';
import { PROBLEM_TYPES, type ProblemType } from './problem-types.js';

/**
 * The ledger's small typed error family. Each error knows its HTTP status and problem type;
 * `src/api/problem.ts` is the one place that turns them into RFC 9457 problem+json, and the CLI
 * prints their message on one line. Messages never carry personal data: they name indexes,
 * fields, ids and event types, never values.
 */
export abstract class LedgerError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  /** The problem's stable `type` (PROBLEM_TYPES): never derived from the title. */
  abstract readonly type: ProblemType;
  /** Extra members of the problem document (field pointers, revisions, ...). */
  readonly details: Record<string, unknown>;
  /** `options.cause`: the error it stands for (a driver's), kept for the log, never shown in the problem. */
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** One reason an input was refused, pointing at the event index and the JSON field. */
export interface InputIssue {
  /** Index of the event in the published batch (absent for body-level issues). */
  index?: number;
  /** JSON Pointer to the offending field inside the envelope, e.g. `/data/email`. */
  pointer: string;
  message: string;
}

export class ValidationError extends LedgerError {
  readonly status = 400;
  readonly title = 'Invalid input';
  readonly type = PROBLEM_TYPES.invalidInput;
  constructor(
    message: string,
    readonly issues: InputIssue[] = [],
  ) {
    super(message, { errors: issues });
  }
}

export class PayloadTooLarge extends LedgerError {
  readonly status = 413;
  readonly title = 'Payload too large';
  readonly type = PROBLEM_TYPES.payloadTooLarge;
}

export class UnknownContact extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown contact';
  readonly type = PROBLEM_TYPES.unknownContact;
  constructor(contactId: string) {
    super(`no events for contact ${contactId}`, { contactId });
  }
}

/** A stream the log holds no event of (a typo, another ledger's name): there is nothing to verify. */
export class UnknownStream extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown stream';
  readonly type = PROBLEM_TYPES.unknownStream;
  constructor(stream: string) {
    // Echoed only when it is an opaque name: a mistyped e-mail address is not repeated anywhere.
    const named = isOpaqueId(stream);
    super(`the log holds no stream ${named ? stream : 'of that name'}`, named ? { stream } : {});
  }
}

export class UnknownErasureRequest extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown erasure request';
  readonly type = PROBLEM_TYPES.unknownErasureRequest;
  constructor(requestId: string) {
    super(`no erasure request ${requestId}`, { requestId });
  }
}

/** A subscriber name no configuration event gives (or one removed since). */
export class UnknownSubscriber extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown subscriber';
  readonly type = PROBLEM_TYPES.unknownSubscriber;
  constructor(name: string) {
    super(`no subscriber ${name}`, { name });
  }
}

/** No event of that id in the log (an acknowledgement naming an event the ledger never stored). */
export class UnknownEvent extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown event';
  readonly type = PROBLEM_TYPES.unknownEvent;
  constructor(eventId: string) {
    super(`no event ${eventId}`, { eventId });
  }
}

export class ConcurrencyConflict extends LedgerError {
  readonly status = 409;
  readonly title = 'Concurrency conflict';
  readonly type = PROBLEM_TYPES.concurrencyConflict;
  constructor(
    readonly stream: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
  ) {
    super(`stream ${stream} is at revision ${actualRevision}, expected ${expectedRevision}`, {
      stream,
      expectedRevision,
      actualRevision,
    });
  }
}

/**
 * A run that names the simulation it applies, refused because the outcome is no longer the one
 * simulated (the log changed since): nothing irreversible is done that nobody reviewed.
 */
export class SimulationOutdated extends LedgerError {
  readonly status = 409;
  readonly title = 'Simulation outdated';
  readonly type = PROBLEM_TYPES.simulationOutdated;
  constructor(changed: Record<string, { simulated: number; now: number }>) {
    const what = Object.entries(changed)
      .map(([outcome, { simulated, now }]) =>
        simulated === now ? `${outcome}: as many, other contacts` : `${outcome}: ${simulated} → ${now}`,
      )
      .join(', ');
    super(`the outcome differs from the simulation named (${what}); nothing was applied`, {
      action: 'simulate again, review the new outcome, then apply the new simulation',
      changed,
    });
  }
}

/** An event id re-used for a different event (another stream or type): not a harmless retry. */
export class IdempotencyConflict extends LedgerError {
  readonly status = 409;
  readonly title = 'Event id already used';
  readonly type = PROBLEM_TYPES.eventIdAlreadyUsed;
  constructor(id: string, index?: number) {
    super(`event id ${id} is already stored for a different stream or type`, { id, index });
  }
}

/** An API key id that was never issued. */
export class UnknownApiKey extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown API key';
  readonly type = PROBLEM_TYPES.unknownApiKey;
  constructor(keyId: string) {
    super(`no API key ${keyId}`, { keyId });
  }
}

/** No API key, or one that is wrong or revoked: the caller is not known. */
export class Unauthenticated extends LedgerError {
  readonly status = 401;
  readonly title = 'Unauthenticated';
  readonly type = PROBLEM_TYPES.unauthenticated;
  constructor() {
    super('send a valid API key as Authorization: Bearer <key> (ledger keys create)');
  }
}

/** A valid API key whose role may not use this route (least privilege per role). */
export class Forbidden extends LedgerError {
  readonly status = 403;
  readonly title = 'Forbidden';
  readonly type = PROBLEM_TYPES.forbidden;
  constructor(role: string, required: string, why?: string) {
    super(why ?? `this route needs the role ${required} (or admin); the key's role is ${role}`, { role, required });
  }
}

/** A rule of the domain refuses the request; `action` says what the operator must do. */
export class RuleViolation extends LedgerError {
  readonly status = 422;
  readonly title = 'Rule violation';
  readonly type = PROBLEM_TYPES.ruleViolation;
  constructor(message: string, action: string, details: Record<string, unknown> = {}) {
    super(message, { action, ...details });
  }
}

/**
 * The erasure fence: personal data for a forgotten scope is refused so that a late upstream
 * message cannot resurrect a person. Names the forgetting event.
 */
export class Forgotten extends LedgerError {
  readonly status = 410;
  readonly title = 'Forgotten';
  readonly type = PROBLEM_TYPES.forgotten;
  constructor(scope: string, forgottenBy: string | null, index?: number) {
    super(
      `${scope} was forgotten${forgottenBy ? ` by event ${forgottenBy}` : ''}; a returning person is a new contact`,
      { scope, forgottenBy, index },
    );
  }
}

/** A consent link that was never made here (forged, altered, truncated): nothing is said about why. */
export class UnknownConsentLink extends LedgerError {
  readonly status = 404;
  readonly title = 'Unknown consent link';
  readonly type = PROBLEM_TYPES.unknownConsentLink;
  constructor() {
    super('no such consent link');
  }
}

/** A consent link past its expiry, or of a person since forgotten: it dies with them. */
export class ConsentLinkGone extends LedgerError {
  readonly status = 410;
  readonly title = 'Consent link no longer valid';
  readonly type = PROBLEM_TYPES.consentLinkGone;
  constructor(readonly reason: 'expired' | 'forgotten') {
    super(
      reason === 'expired'
        ? 'this consent link has expired; ask the institution for a new one'
        : 'this consent link no longer works',
    );
  }
}

/**
 * Too many requests (on one consent link within its window, or replays at once): nothing was
 * done; retry after the seconds given.
 */
export class TooManyRequests extends LedgerError {
  readonly status = 429;
  readonly title = 'Too many requests';
  readonly type = PROBLEM_TYPES.tooManyRequests;
  constructor(
    readonly retryAfterSeconds: number,
    why = 'too many requests on this link',
  ) {
    super(`${why}; retry in ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds });
  }
}

/**
 * The database (PostgreSQL, EventStoreDB) is out of reach: a lost, refused or stalled connection, a
 * server shutting down or restarting. An outage, not a wrong request: answered 503 with Retry-After,
 * waited out by the projection runner. Each adapter maps its driver's errors to it (src/postgres,
 * src/eventstoredb), so shared code asks `instanceof` and knows no SQLSTATE or gRPC status. Appends
 * are transactions (per stream on EventStoreDB): a retry with the same event ids is idempotent.
 */
export class StoreUnavailable extends LedgerError {
  readonly status = 503;
  readonly title = 'Service unavailable';
  readonly type = PROBLEM_TYPES.serviceUnavailable;
  constructor(
    /** The driver's code (a Node network code, an SQLSTATE, a gRPC status): for the log, never data. */
    readonly code: string | number | undefined,
    cause: unknown,
  ) {
    super(
      'the database cannot be reached; nothing partial was appended: retry later with the same event ids',
      {},
      { cause },
    );
  }
}

/**
 * The read models cannot answer yet: they are keyed by another master key (a rotation) until the
 * rebuild under way swaps new ones in. An empty answer would read as "nobody", which it is not.
 */
export class ReadModelsNotReady extends LedgerError {
  readonly status = 503;
  readonly title = 'Read models not ready';
  readonly type = PROBLEM_TYPES.readModelsNotReady;
}

/** A sealed part that fails to open (tampering, wrong master key, missing key): never silence. */
export class IntegrityError extends LedgerError {
  readonly status = 500;
  readonly title = 'Integrity failure';
  readonly type = PROBLEM_TYPES.integrityFailure;
}
