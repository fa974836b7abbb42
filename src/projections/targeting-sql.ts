import { LISTED_CONTACT } from './tables.js';

/** Which contacts a targeting reads: the ids given, the renewal audience, or every registered one; by organisation. */
export interface TargetScope {
  contactIds?: readonly string[];
  /** Individuals and relays, listed, whose recency is before this date: the consent-renewal audience. */
  recencyBefore?: string;
  organizationId?: string;
}

/** What a targeting row holds (flags as 0 or 1), one per contact in scope: see TargetFacts. */
export interface TargetRow {
  contact_id: string;
  forgotten: number;
  restricted: number;
  refused_general: number;
  refused_channel: number;
  yes_channel: number;
  answered: number;
}

/** How an adapter writes a parameter and a list of ids: numbered placeholders, bound in the order asked. */
export interface TargetingDialect {
  qualified(table: string): string;
  param(value: unknown): string;
  inIds(ids: readonly string[]): string;
}

/**
 * One query for both backends: each contact in scope with its answers folded over the purposes
 * as configured now, in contact id order (a walk of the contacts key joined to the consents key).
 */
export function targetingSql(scope: TargetScope, channel: string, sql: TargetingDialect): string {
  const where = [
    scope.contactIds
      ? `contact_id ${sql.inIds(scope.contactIds)}`
      : scope.recencyBefore !== undefined
        ? `recency_at < ${sql.param(scope.recencyBefore)} AND ${LISTED_CONTACT} AND role IN ('individual', 'relay')`
        : 'registered_event IS NOT NULL',
    ...(scope.organizationId !== undefined
      ? [
          `EXISTS (SELECT 1 FROM ${sql.qualified('contact_organizations')} o WHERE o.contact_id = c.contact_id ` +
            `AND o.organization_id = ${sql.param(scope.organizationId)})`,
        ]
      : []),
  ];
  const on = sql.param(channel);
  const flag = (condition: string) => `coalesce(max(CASE WHEN ${condition} THEN 1 ELSE 0 END), 0)`;
  return `SELECT t.contact_id, t.forgotten, t.restricted,
      ${flag(`s.status = 'no' AND p.channel = 'all'`)} AS refused_general,
      ${flag(`s.status = 'no' AND p.channel = ${on}`)} AS refused_channel,
      ${flag(`s.status = 'yes' AND (p.channel = 'all' OR p.channel = ${on})`)} AS yes_channel,
      ${flag(`s.status IN ('yes', 'no')`)} AS answered
    FROM (SELECT c.contact_id, CASE WHEN c.status = 'active' THEN 0 ELSE 1 END AS forgotten, c.restricted
          FROM ${sql.qualified('contacts')} c WHERE ${where.join(' AND ')}) t
    LEFT JOIN ${sql.qualified('consents')} s ON s.contact_id = t.contact_id
    LEFT JOIN ${sql.qualified('purposes')} p ON p.code = s.purpose
    GROUP BY t.contact_id, t.forgotten, t.restricted
    ORDER BY t.contact_id`;
}
