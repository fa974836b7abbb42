import { API_KEYS_STREAM } from './api-keys.js';
import { CONTACT_STREAM_PREFIX } from './identifiers.js';
import { BATCH_STREAM_PREFIX } from './inactive-contacts.js';
import { PURPOSES_STREAM } from './purposes.js';
import { SCHEDULES_STREAM } from './schedules.js';
import { SUBSCRIBERS_STREAM } from './subscribers.js';

/** The stream the server records its periodic signed checkpoints in (AuditCheckpointRecorded). */
export const AUDIT_CHECKPOINTS_STREAM = 'audit-checkpoints';

/** The kinds of stream a ledger writes: streams named exactly, and families of streams named by a prefix. */
export interface StreamKinds {
  /** One stream each: the configuration streams and the audit checkpoints. */
  readonly names: readonly string[];
  /** A stream per contact (`contact-<id>`), per batch run (`batch-<runId>`). */
  readonly prefixes: readonly string[];
}

/**
 * Every stream the ledger writes (DESIGN.md "Events": contact streams; purposes, API keys,
 * schedules, subscribers, batch runs and audit checkpoints are streams too). A store that reads only some
 * streams of its backend (EventStoreDB reads $all, shared with other writers) keeps these: a kind
 * missing here would be written and never replayed nor verified, so appendSealed refuses a
 * stream of no kind, on every backend.
 */
export const LEDGER_STREAMS: StreamKinds = {
  names: [PURPOSES_STREAM, API_KEYS_STREAM, SCHEDULES_STREAM, SUBSCRIBERS_STREAM, AUDIT_CHECKPOINTS_STREAM],
  prefixes: [CONTACT_STREAM_PREFIX, BATCH_STREAM_PREFIX],
};

/** Whether `stream` is of one of `kinds`: named exactly, or a prefix followed by at least one character. */
export const isStreamOf = (kinds: StreamKinds, stream: string): boolean =>
  kinds.names.includes(stream) ||
  kinds.prefixes.some((prefix) => stream.length > prefix.length && stream.startsWith(prefix));
