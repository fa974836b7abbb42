import {
  CONTACT_FORGETTING_TYPES,
  CULTURAL_CONTACT_TYPES,
  FORGETTING_TYPES,
  RESTRICTION_TYPES,
} from '../domain/catalog.js';
import { ERASURE_CONFIRMATION_TYPES, ERASURE_REQUEST_TYPES } from '../domain/erasure-requests.js';
import type { EventIndexes } from './event-store.js';

/**
 * The ledger's event indexes: forgetting, erasure-request, confirmation and restriction events by type, the
 * cultural contacts of order activities, and the forgetting of a contact as the fence of its stream.
 * Every opening of a ledger's log passes them (the composition roots of both threads, the tests).
 */
export const LEDGER_EVENT_INDEXES = {
  types: [FORGETTING_TYPES, ERASURE_REQUEST_TYPES, ERASURE_CONFIRMATION_TYPES, RESTRICTION_TYPES],
  mentions: { types: CULTURAL_CONTACT_TYPES, field: 'culturalContactId' },
  fences: CONTACT_FORGETTING_TYPES,
} as const satisfies EventIndexes;
