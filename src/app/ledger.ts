import { v7 as uuidv7 } from 'uuid';
import { envelopesOf, validateEnvelopes, type ValidEvent } from '../domain/envelope.js';
import { Forgotten, UnknownContact } from '../domain/errors.js';
import { contactStream } from '../domain/identifiers.js';
import { foldContactView, type ContactView, type ViewEvent } from '../domain/contact-view.js';
import { decideAnonymization, type ForgetCommand } from '../domain/forgetting.js';
import { ChainVerifier } from '../crypto/hash-chain.js';
import type { KeyStore } from '../crypto/key-store.js';
import type { AppendOutcome, EventStore } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';
import type { Shredder } from '../jobs/shredder.js';
import { openEvent, scopesNeeded, sealEvent, type OpenedEvent } from './sealing.js';

export interface PublishResult extends AppendOutcome {
  warnings: Array<{ index: number; message: string }>;
}

export interface ForgetResult {
  contactId: string;
  /** The forgetting event: the one appended now, or the earlier one when already forgotten. */
  eventId: string;
  alreadyForgotten: boolean;
  keysDestroyed: number;
}

/**
 * The ledger's use cases over the ports: publish (validate, seal, append), personal views folded
 * on demand, forgetting, and chain verification. No I/O of its own beyond the ports.
 */
export class Ledger {
  constructor(
    readonly store: EventStore,
    readonly keys: KeyStore,
    private readonly shredder: Shredder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Validates a whole publish body before anything is appended, then appends it atomically. */
  async publish(body: unknown, options: { allowLedgerTypes?: boolean } = {}): Promise<PublishResult> {
    const events = validateEnvelopes(envelopesOf(body), { now: this.now(), newId: uuidv7, ...options });
    return this.append(events);
  }

  async append(events: readonly ValidEvent[]): Promise<PublishResult> {
    const keys = await this.keysFor(events);
    const outcome = await this.store.append(events.map((event) => sealEvent(event, keys)));
    const indexOf = new Map(events.map((event, index) => [event.id, index]));
    const warnings = outcome.appended
      .filter((appended) => appended.revision === 0)
      .map((appended) => ({ index: indexOf.get(appended.id)!, stream: appended.stream }))
      .filter(({ index }) => events[index]?.type !== 'ContactRegistered')
      .map(({ index, stream }) => ({ index, message: `first event of ${stream} is not ContactRegistered` }));
    return { ...outcome, warnings };
  }

  /** The stream with every seal opened; erased parts listed as erased. */
  async openStream(contactId: string): Promise<OpenedEvent[]> {
    const stored = await this.store.readStream(contactStream(contactId));
    if (stored.length === 0) throw new UnknownContact(contactId);
    const opened: OpenedEvent[] = [];
    for (const event of stored) opened.push(await openEvent(event, this.keys));
    return opened;
  }

  async contactView(contactId: string): Promise<ContactView> {
    return foldContactView(contactId, (await this.openStream(contactId)) as ViewEvent[]);
  }

  /**
   * Anonymizes a contact: appends ContactAnonymized (at the revision the decision was taken on,
   * so nothing slips in unseen), then destroys the contact's and its orders' keys.
   */
  async forget(contactId: string, command: ForgetCommand): Promise<ForgetResult> {
    const opened = await this.openStream(contactId);
    const view = foldContactView(contactId, opened as ViewEvent[]);
    const decision = decideAnonymization(view, command, this.now());
    const stream = contactStream(contactId);
    if (!decision) {
      // Idempotent: redo the shred in case an earlier run stopped between append and shred.
      const earlier = opened.find((event) => event.id === view.forgottenBy?.eventId);
      const keysDestroyed = earlier ? await this.shredder.shredFor(earlier) : 0;
      return { contactId, eventId: earlier?.id ?? '', alreadyForgotten: true, keysDestroyed };
    }
    const event: ValidEvent = {
      id: uuidv7(),
      type: decision.type,
      contactId,
      // Forgetting is institution-wide; it is filed under the organisation that registered the contact.
      organizationId: opened[0]?.organizationId ?? '',
      occurredAt: this.now().toISOString(),
      expectedRevision: opened.length - 1,
      data: decision.data,
    };
    await this.store.append([sealEvent(event, new Map())]);
    const keysDestroyed = await this.shredder.shredFor({ ...event, stream });
    return { contactId, eventId: event.id, alreadyForgotten: false, keysDestroyed };
  }

  /** Verifies one stream's chain, or every stream's by reading the whole log in order. */
  async verify(stream?: string, onProgress: (events: number) => void = () => {}) {
    const verifier = new ChainVerifier();
    if (stream) {
      for (const event of await this.store.readStream(stream)) verifier.check(event);
      return verifier.report();
    }
    for await (const page of pagesAfter((after, limit) => this.store.readAll({ after, limit }), 0, 5000)) {
      for (const event of page) verifier.check(event);
      onProgress(verifier.events);
    }
    return verifier.report();
  }

  /** Fetches every key the batch seals with; the erasure fence names the refused event. */
  private async keysFor(events: readonly ValidEvent[]) {
    try {
      return await this.keys.keysFor(events.flatMap(scopesNeeded));
    } catch (error) {
      if (!(error instanceof Forgotten)) throw error;
      const scope = error.details['scope'];
      const index = events.findIndex((event) => scopesNeeded(event).includes(String(scope)));
      throw new Forgotten(String(scope), (error.details['forgottenBy'] as string | null) ?? null, index);
    }
  }
}
