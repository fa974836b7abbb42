import { ErrorType, isCommandError } from '@eventstore/db-client';
import { StoreUnavailable } from '../domain/errors.js';

/**
 * The client's errors that say EventStoreDB is out of reach: a lost or refused gRPC channel
 * (UNAVAILABLE), a call past its deadline (LEDGER_DATABASE_TIMEOUT, see withDeadlines). Known here
 * only: the rest of the ledger sees StoreUnavailable (a 503 with Retry-After, an outage the
 * projection runner waits out). Matched by the client's `type`, which every CommandError carries.
 */
const OUTAGES = new Set<string>([ErrorType.UNAVAILABLE, ErrorType.DEADLINE_EXCEEDED]);

/** The ledger's error for a client's error: StoreUnavailable for an outage, the error itself otherwise. */
export function fromEsdb(error: unknown): unknown {
  if (error instanceof Error && isCommandError(error) && OUTAGES.has(error.type))
    return new StoreUnavailable(error.type, error);
  return error;
}
