import { checkpointProving } from './audit-checkpoint.js';
import { erasureRequests } from './erasure-requests.js';
import type { LedgerContext } from './ledger-context.js';
import { signCertificate } from '../crypto/erasure-certificate.js';
import type { CheckpointSigner } from '../crypto/log-checkpoint.js';
import { CONTACT_FORGETTING_TYPES } from '../domain/catalog.js';
import type { ErasureCertificate } from '../domain/erasure-certificate.js';
import { IntegrityError, RuleViolation, UnknownErasureRequest } from '../domain/errors.js';
import { destroyedScopes } from '../domain/forgetting.js';
import { contactStream } from '../domain/identifiers.js';
import type { StoredEvent } from '../store/event-store.js';

/**
 * The signed erasure certificate of an executed request (issue 27): the request, the forgetting as
 * the log holds it, the tombstones of the keys it destroyed, the downstream systems' confirmations
 * as the log holds them and those still awaited, a checkpoint of the log signed now with the
 * inclusion proof of each of those records under it. Nothing personal: ids, codes, dates and
 * hashes. Issued once the person is forgotten here, whether or not every system has confirmed (the
 * certificate says which have). 404 for an unknown request; 422 for one that forgot nothing
 * (pending or refused), or whose keys the shredder has not destroyed, or the key store not wiped
 * from its files, yet (it says so rather than certify what is not done).
 */
export async function erasureCertificate(
  context: LedgerContext & { checkpointSigner: CheckpointSigner },
  requestId: string,
): Promise<ErasureCertificate> {
  const request = (await erasureRequests(context)).get(requestId);
  if (!request) throw new UnknownErasureRequest(requestId);
  if (!request.closedBy || (request.status !== 'done' && request.status !== 'awaiting-confirmation')) {
    throw new RuleViolation(
      `erasure request ${requestId} is ${request.status}: nothing was forgotten, there is nothing to certify`,
      request.status === 'pending'
        ? `execute it first (POST /v1/erasure-requests/${requestId}/execute)`
        : 'a refused request forgets nothing: it has no certificate',
      { requestId },
    );
  }
  const forgettingId = request.closedBy.eventId;
  const stream = new Map(
    (await context.store.readStream(contactStream(request.contactId))).map((event) => [event.id, event]),
  );
  const forgetting = stream.get(forgettingId)!;
  const scopes = destroyedScopes(forgetting);
  const tombstones = await context.keys.tombstonesOf(scopes);
  if (tombstones.length < scopes.length) {
    throw new RuleViolation(
      `the keys of the forgetting ${forgettingId} are not all destroyed yet`,
      'the shredder destroys them moments after the forgetting (ledger serve; ledger forget does it at once): ' +
        'ask again',
      { requestId, forgettingEvent: forgettingId },
    );
  }
  // Destroyed, but their bytes may still be in the files while a reader holds them: wiped now, or said.
  if ((await context.keys.wipeShredded()) === 'heldBack') {
    throw new RuleViolation(
      `the keys of the forgetting ${forgettingId} are destroyed, ` +
        "but their bytes are not wiped from the key store's files yet",
      'a session or a backup that began before the forgetting still reads the key store: ask again once it has ended',
      { requestId, forgettingEvent: forgettingId },
    );
  }
  const confirmed = request.downstream.flatMap(({ subscriber, confirmedBy }) =>
    confirmedBy ? [{ subscriber, event: stream.get(confirmedBy.eventId)! }] : [],
  );
  const records = [forgetting, ...confirmed.map(({ event }) => event)];
  const { checkpoint, proved } = await checkpointProving(
    context,
    records.map((event) => event.position),
  );
  // The leaves are hashed again from the stored fields: a record changed since it was written is not certified.
  const changed = records.find((event) => proved.get(event.position)?.hash !== event.hash);
  if (changed) throw new IntegrityError(`the record of event ${changed.id} no longer matches its chain hash`);
  const asLogged = (event: StoredEvent) => proved.get(event.position)!;
  return signCertificate(
    {
      issuedAt: context.now().toISOString(),
      request: {
        requestId,
        channel: request.channel,
        contactId: request.contactId,
        requestedAt: request.requestedAt,
      },
      forgetting: {
        eventId: forgetting.id,
        type: forgetting.type as (typeof CONTACT_FORGETTING_TYPES)[number],
        occurredAt: forgetting.occurredAt,
        ...asLogged(forgetting),
      },
      keysDestroyed: tombstones.map(({ scope, keyId, shreddedAt, reason, eventId }) => ({
        scope,
        keyId,
        shreddedAt,
        reason,
        eventId,
      })),
      confirmations: confirmed.map(({ subscriber, event }) => ({
        subscriber,
        eventId: event.id,
        confirmedAt: event.occurredAt,
        ...asLogged(event),
      })),
      awaitingConfirmation: request.downstream.flatMap(({ subscriber, confirmedBy }) =>
        confirmedBy ? [] : [subscriber],
      ),
      checkpoint,
    },
    context.checkpointSigner,
  );
}
