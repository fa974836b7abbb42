import { EXCLUSION_REASONS, type AnswerPatterns, type ExclusionCheck, type TargetFacts } from '../domain/targeting.js';
import { LISTED_CONTACT } from './tables.js';

/** Which contacts a targeting reads: the ids given, the renewal audience, or every registered one; by organisation. */
export interface TargetScope {
  contactIds?: readonly string[];
  /** Individuals and relays, listed, whose recency is before this date: the consent-renewal audience. */
  recencyBefore?: string;
  organizationId?: string;
}

/** What a targeting query answers: a count per reason (the reasons' names), and the eligible ids joined by commas. */
export type TargetTally = Record<string, number> & {
  considered: number;
  without_answer: number;
  eligible: string | null;
};

/** A targeting as the read models run it: who, the answers that make each fact, the checks in order. */
export interface TargetQuery {
  scope: TargetScope;
  patterns: AnswerPatterns;
  checks: readonly ExclusionCheck[];
}

/** How an adapter writes a parameter and a list of ids, and keeps a subquery apart. */
export interface TargetingDialect {
  qualified(table: string): string;
  param(value: unknown): string;
  inIds(ids: readonly string[]): string;
  /**
   * Ends the per-contact subquery so that the planner keeps it apart: flattened, each reason's
   * count would evaluate every check again (seven times the work on SQLite).
   */
  fence: string;
}

/**
 * One query for both backends, one pass over the contacts in scope: each contact's facts from its
 * flags and its answers (one row: no join), its reason by the checks in order, then the counts and
 * the eligible ids, aggregated by the database: the application never walks a million rows.
 */
export function targetingSql({ scope, patterns, checks }: TargetQuery, sql: TargetingDialect): string {
  const { organizationId } = scope;
  const inOrganization = () =>
    `EXISTS (SELECT 1 FROM ${sql.qualified('contact_organizations')} o WHERE o.contact_id = c.contact_id ` +
    `AND o.organization_id = ${sql.param(organizationId)})`;
  // Ids given are all considered: one of another organisation is counted as such (otherOrganization).
  // A derived audience (the renewal one, everyone) is the organisation's contacts to begin with.
  const where = [
    scope.contactIds
      ? `contact_id ${sql.inIds(scope.contactIds)}`
      : scope.recencyBefore !== undefined
        ? `recency_at < ${sql.param(scope.recencyBefore)} AND ${LISTED_CONTACT} AND role IN ('individual', 'relay')`
        : 'registered_event IS NOT NULL',
    ...(organizationId !== undefined && !scope.contactIds ? [inOrganization()] : []),
  ];
  const anyOf = (list: readonly string[]) =>
    list.length === 0
      ? '1 = 0'
      : list.map((pattern) => `consent_answers LIKE ${sql.param(`%${pattern}%`)}`).join(' OR ');
  // Written when a check reads it: a parameter the query does not use is an error on PostgreSQL.
  const facts: Record<keyof TargetFacts, () => string> = {
    // A derived audience holds none (see where): no second look-up per contact.
    otherOrganization: () => (scope.contactIds ? `NOT ${inOrganization()}` : '1 = 0'),
    forgotten: () => `status <> 'active'`,
    restricted: () => 'restricted = 1',
    refusedInGeneral: () => anyOf(patterns.refusedInGeneral),
    refusedOnChannel: () => anyOf(patterns.refusedOnChannel),
    yesOnChannel: () => anyOf(patterns.yesOnChannel),
    answered: () => `consent_answers <> ','`,
  };
  const whens = checks.map(({ when, fact, reason }) => `WHEN ${when ? '' : 'NOT '}(${facts[fact]()}) THEN '${reason}'`);
  const reason = whens.length === 0 ? 'NULL' : `CASE ${whens.join(' ')} END`;
  const counts = EXCLUSION_REASONS.filter((r) => r !== 'unknownContact').map(
    (r) => `count(*) FILTER (WHERE reason = '${r}') AS "${r}"`,
  );
  return `SELECT count(*) AS considered, ${counts.join(', ')},
      count(*) FILTER (WHERE NOT forgotten AND NOT answered AND coalesce(reason, '') <> 'otherOrganization')
        AS without_answer,
      string_agg(contact_id, ',' ORDER BY contact_id) FILTER (WHERE reason IS NULL) AS eligible
    FROM (SELECT contact_id, ${reason} AS reason, (${facts.forgotten()}) AS forgotten, (${facts.answered()}) AS answered
          FROM ${sql.qualified('contacts')} c WHERE ${where.join(' AND ')}${sql.fence}) t`;
}
