import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { destroyedScopes, isForgettingEvent } from '../domain/forgetting.js';
import { canonicalJson } from '../crypto/hash-chain.js';
import type { CheckpointSigner } from '../crypto/log-checkpoint.js';
import type { EventToAppend, StoredEvent } from '../store/event-store.js';
import { fsyncPath } from '../fsync.js';
import { GroupCommit, type Settled } from '../store/group-commit.js';

/** What the journal needs of a forgetting event. */
export type ForgettingFact = Pick<StoredEvent, 'id' | 'type' | 'stream' | 'organizationId' | 'occurredAt' | 'data'>;

/**
 * One forgetting, as the journal keeps it: ids, codes and flags, nothing personal. `data` is the
 * part of the event's clear data a re-append needs to be a valid forgetting that destroys the
 * same scopes; the places an anonymization keeps are left out (`retained: {}`): not ids.
 */
export interface JournalEntry {
  eventId: string;
  type: string;
  stream: string;
  organizationId: string;
  occurredAt: string;
  data: Record<string, unknown>;
  /** The key scopes the forgetting destroys. */
  scopes: string[];
  journaledAt: string;
}

/** The clear fields of forgetting events that are ids, codes or flags: what destroyedScopes and the catalog need. */
const KEPT_FIELDS = ['reason', 'runId', 'requestId', 'operatorId', 'legalBasis', 'orderId', 'ticketId', 'orderEnded'];

/** The journal's entry of a forgetting event (pure: the time it is journaled comes in). */
export function journalEntryOf(event: ForgettingFact, journaledAt: string): JournalEntry {
  const data = Object.fromEntries(KEPT_FIELDS.filter((field) => field in event.data).map((f) => [f, event.data[f]]));
  return {
    eventId: event.id,
    type: event.type,
    stream: event.stream,
    organizationId: event.organizationId,
    occurredAt: event.occurredAt,
    data: 'retained' in event.data ? { ...data, retained: {} } : data,
    scopes: destroyedScopes(event),
    journaledAt,
  };
}

/** The forgetting a restored log lacks, as it is appended again (same id: a second append is a duplicate). */
export const eventOfEntry = (entry: JournalEntry): EventToAppend => ({
  id: entry.eventId,
  type: entry.type,
  stream: entry.stream,
  organizationId: entry.organizationId,
  occurredAt: entry.occurredAt,
  data: entry.data,
  sealed: null,
});

/**
 * What a line's signature covers: the entries of one write, signed together (one Ed25519
 * signature a write, not one an entry: a batch's groups journal hundreds at once). Lines of the
 * first version hold one entry each.
 */
const SIGNED_PREFIX = { 1: 'contact-ledger forgetting v1\n', 2: 'contact-ledger forgettings v2\n' } as const;
const signedText = ({ entries, version }: Pick<SignedLine, 'entries' | 'version'>) =>
  Buffer.from(SIGNED_PREFIX[version] + canonicalJson(version === 1 ? entries[0]! : entries));

/**
 * A new line of the journal, v2: its entries' canonical JSON, serialized once, is both what the
 * signature covers and what the line holds (any JSON of the entries parses to the same entries).
 */
function signedLine(entries: readonly JournalEntry[], signer: CheckpointSigner): { line: Buffer; signature: string } {
  const json = Buffer.from(canonicalJson(entries));
  const signature = signer.signText(Buffer.concat([Buffer.from(SIGNED_PREFIX[2]), json]));
  const line = Buffer.concat([
    Buffer.from('{"entries":'),
    json,
    Buffer.from(`,"signature":${JSON.stringify(signature)}}\n`),
  ]);
  return { line, signature };
}

/** An entry of the journal that is not what the audit key signed: the ledger does not start on it. */
export class ForgetJournalTampered extends Error {
  constructor(path: string, line: number) {
    super(
      `line ${line} of the forget journal ${path} is not signed by this ledger's audit key ` +
        '(LEDGER_AUDIT_KEY_FILE): it was changed, or the audit key is not the one that wrote it. ' +
        'The ledger does not start: an entry may neither forget someone nor be dropped unseen. ' +
        'Restore the journal or the audit key from their copies, or remove that line after checking it',
    );
    this.name = 'ForgetJournalTampered';
  }
}

const journalError = (path: string, what: string, error: unknown) =>
  new Error(`the forget journal ${path} cannot be ${what} (LEDGER_FORGET_JOURNAL): ${(error as Error).message}`);

const readJournal = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw journalError(path, 'read', error);
  }
};

/** Another node starting at the same time may have made it first. */
function createEmpty(path: string): void {
  try {
    writeFileSync(path, '', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw journalError(path, 'made', error);
    return;
  }
  // Its name made durable too: a journal lost with its folder's entry would be refused at the next start.
  fsyncPath(dirname(path));
}

/**
 * No journal beside a log that holds forgettings: left behind in a restore, moved with the master
 * key file, or LEDGER_FORGET_JOURNAL pointing elsewhere. Starting on a new one would let a restored
 * older keys backup bring back whoever was forgotten after the log's copy was taken.
 */
export class ForgetJournalMissing extends Error {
  constructor(path: string) {
    super(
      `the log holds forgettings but there is no forget journal at ${path} (LEDGER_FORGET_JOURNAL; by default ` +
        'beside the master key file): restore it from where it is kept, apart from data backups, or point ' +
        'LEDGER_FORGET_JOURNAL at it. A node or host that never had one (it keeps its own), or a journal lost ' +
        "for good: create an empty file there, and it starts from the log's forgettings (those the log lacks " +
        'are not known)',
    );
    this.name = 'ForgetJournalMissing';
  }
}

/** A line as the journal holds it: its entries and their signature, checked only when one is acted upon. */
interface SignedLine {
  entries: JournalEntry[];
  signature: string;
  /** 1: `{ entry, signature }`, one entry; 2: `{ entries, signature }`, one write's entries. */
  version: 1 | 2;
  /** Its line in the file, 1-based: what a refusal names (0: written by this process, signed here). */
  line: number;
}

const isEntry = (entry: unknown): entry is JournalEntry =>
  typeof (entry as Partial<JournalEntry> | null)?.eventId === 'string';

/**
 * The lines of a journal's text, their signatures not yet checked; a line that is not one throws.
 * An unterminated last line is an append cut short by a crash (`torn`): its keys were not
 * destroyed yet (entries are written first), and its events are in the log, whose start-up pass
 * journals them again.
 */
export function parseJournal(text: string, path: string): { lines: SignedLine[]; tornBytes: number } {
  const texts = text.split('\n');
  const torn = texts.pop()!; // '' when the text ends with its newline
  const lines: SignedLine[] = [];
  texts.forEach((line, index) => {
    if (line === '') return;
    let signed: { entries?: unknown; entry?: unknown; signature?: unknown };
    try {
      signed = JSON.parse(line) as typeof signed;
    } catch {
      throw new ForgetJournalTampered(path, index + 1);
    }
    const { entries, entry, signature } = signed;
    const parsed: Omit<SignedLine, 'signature' | 'line'> | null =
      Array.isArray(entries) && entries.length > 0 && entries.every(isEntry)
        ? { entries, version: 2 }
        : isEntry(entry)
          ? { entries: [entry], version: 1 }
          : null;
    if (typeof signature !== 'string' || !parsed) throw new ForgetJournalTampered(path, index + 1);
    lines.push({ ...parsed, signature, line: index + 1 });
  });
  return { lines, tornBytes: Buffer.byteLength(torn) };
}

/**
 * The journal of forgotten scopes (DESIGN.md "Downstream and operations"): append-only JSON lines,
 * each signed with the audit key, kept apart from the data (beside the master key), so that a data
 * backup restored later cannot bring back a person forgotten since: at every start the ledger
 * shreds what it names and appends again the forgettings the restored log lacks (Shredder.reconcile).
 */
export class ForgetJournal {
  private readonly journaled: Set<string>;
  private readonly writes = new GroupCommit<readonly ForgettingFact[], void>((calls) => this.write(calls));

  private constructor(
    readonly path: string,
    private readonly signer: CheckpointSigner,
    private readonly kept: SignedLine[],
  ) {
    this.journaled = new Set(kept.flatMap(({ entries }) => entries.map((entry) => entry.eventId)));
  }

  /**
   * Reads and verifies the journal; `onTorn` hears of an append cut short, cut off here. None yet:
   * made, empty, so that from then on a missing journal is told from a new one (a crash between the
   * first forgetting and its journaling leaves it empty, not absent); unless the log already holds
   * forgettings (ForgetJournalMissing).
   */
  static open(
    path: string,
    signer: CheckpointSigner,
    { onTorn, logHoldsForgettings }: { onTorn: (bytes: number) => void; logHoldsForgettings: boolean },
  ): ForgetJournal {
    if (!existsSync(path)) {
      if (logHoldsForgettings) throw new ForgetJournalMissing(path);
      createEmpty(path);
      return new ForgetJournal(path, signer, []);
    }
    const text = readJournal(path);
    const { lines, tornBytes } = parseJournal(text, path);
    if (tornBytes > 0) {
      truncateSync(path, Buffer.byteLength(text) - tornBytes);
      onTorn(tornBytes);
    }
    return new ForgetJournal(path, signer, lines);
  }

  /**
   * The forgettings journaled that `wanted` selects, each verified against the audit key: the
   * first line that fails throws (an entry may neither forget someone nor be dropped unseen). Only
   * the lines of entries acted upon are verified: a start does not pay a signature check per
   * forgetting ever made, most of which the log itself still holds.
   */
  verifiedEntries(wanted: (entry: JournalEntry) => boolean): JournalEntry[] {
    // Two processes may journal the same forgetting (the reaction and the CLI that appended it):
    // every line of it is verified, the forgetting returned once.
    const verified = new Map<string, JournalEntry>();
    for (const signed of this.kept) {
      const acted = signed.entries.filter(wanted);
      if (acted.length === 0) continue;
      if (!this.signer.signed(signedText(signed), signed.signature)) {
        throw new ForgetJournalTampered(this.path, signed.line);
      }
      for (const entry of acted) verified.set(entry.eventId, entry);
    }
    return [...verified.values()];
  }

  /**
   * Journals the forgettings not journaled yet, durably, before their keys are destroyed: an entry
   * whose shred then fails is redone at the next start, while a key destroyed with no entry could
   * come back with a restored keys backup. Calls made while a write is in flight share the next
   * one (one write and one fsync for them all, see GroupCommit), each answered once it is synced.
   */
  record(events: readonly ForgettingFact[]): Promise<void> {
    return this.writes.submit(events);
  }

  private async write(calls: ReadonlyArray<readonly ForgettingFact[]>): Promise<Settled<void>[]> {
    const done = calls.map((): Settled<void> => ({ ok: true, value: undefined }));
    const now = new Date().toISOString();
    const fresh = calls.flat().filter((event) => isForgettingEvent(event) && !this.journaled.has(event.id));
    if (fresh.length === 0) return done;
    const entries = [...new Map(fresh.map((event) => [event.id, journalEntryOf(event, now)])).values()];
    const { line, signature } = signedLine(entries, this.signer);
    const created = !existsSync(this.path);
    const file = await open(this.path, 'a', 0o600);
    try {
      await file.write(line);
      await file.sync();
    } finally {
      await file.close();
    }
    if (created) fsyncPath(dirname(this.path));
    for (const entry of entries) this.journaled.add(entry.eventId);
    this.kept.push({ entries, signature, version: 2, line: 0 });
    return done;
  }
}
