import { ROLES } from './catalog.js';
import { ValidationError } from './errors.js';
import { BATCH_ROLES } from './inactive-contacts.js';

/** The `role` filter's word for every role of the catalog. */
export const EVERY_ROLE = 'all';

/**
 * The roles a recency list holds, from its `role` filter. By default the inactive-contact batch's
 * candidates, individuals and relays: the list prepares that batch, and the reference's
 * consent-renewal target selects the same people ("Individual Type is equal to Individual",
 * ticketing-gdpr-features-v1.fr.txt). `all`: every role; otherwise catalog roles separated by commas.
 */
export function recencyListRoles(filter: unknown): readonly string[] {
  if (filter === undefined) return BATCH_ROLES;
  if (filter === EVERY_ROLE) return ROLES;
  const roles = typeof filter === 'string' ? filter.split(',') : [];
  if (roles.length === 0 || !roles.every((role) => (ROLES as readonly string[]).includes(role))) {
    throw new ValidationError(`role must be ${EVERY_ROLE}, or roles among ${ROLES.join(', ')} separated by commas`, [
      { pointer: '/role', message: 'is not a contact role' },
    ]);
  }
  return [...new Set(roles)];
}
