import type { LedgerConfig } from '../../config.js';
import type { FoldEvent } from '../fold-batch.js';
import type { WireError } from '../../domain/wire-errors.js';

/** What the bulk reader thread is started with. */
export interface BulkReaderInput {
  config: LedgerConfig;
  /** Base64; the data keys it unwraps open the e-mail seals. Stays in this process. */
  masterKey: string;
  after: number;
  pageSize: number;
  /** Pages it may prepare ahead of the folding thread: bounds the memory between the two. */
  ahead: number;
}

/** A JSON text, typed by what it parses to: both threads agree on the shape the compiler checks. */
export type JsonText<T> = string & { readonly parsesTo?: T };

export const toJsonText = <T>(value: T): JsonText<T> => JSON.stringify(value);
export const parseJsonText = <T>(text: JsonText<T>): T => JSON.parse(text) as T;

/**
 * A page as the reader thread sends it: the fold's events (ledger types of contact streams), and
 * the ids of those that set an e-mail, as JSON text (the cheapest thing to copy and parse); the
 * position of its last event.
 */
export interface PageText {
  events: JsonText<FoldEvent[]>;
  emailEvents: JsonText<string[]>;
  last: number;
}

/**
 * What the reader thread sends: pages, the end of the log, and, pages in order, the blind-index
 * hashes of each page's e-mails ([event id, hash]), some of them after the end; or why it failed.
 */
export type BulkReaderMessage =
  | ({ kind: 'page' } & PageText)
  | { kind: 'hashes'; emailHashes: Array<[string, string]>; last: number }
  | { kind: 'done' }
  | { kind: 'failed'; error: WireError };

/** What the folding thread sends back: room for one more page. */
export type BulkReaderCredit = 'more';
