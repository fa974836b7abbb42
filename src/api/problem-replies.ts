import { Type } from '@sinclair/typebox';
import { PROBLEM_TYPES } from '../domain/problem-types.js';
import { RETRY_AFTER_SECONDS } from './problem.js';
import type { Reply } from './route.js';

/** RFC 9457 problem document, as problem.ts writes it; other members (ids, revisions) may follow. */
export const ProblemSchema = Type.Object(
  {
    type: Type.Union(
      Object.values(PROBLEM_TYPES).map((type) => Type.Literal(type)),
      { description: 'what a client switches on: stable, whatever the title says (README "Problems")' },
    ),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    errors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            index: Type.Optional(Type.Integer({ description: 'the event of a batch' })),
            pointer: Type.String({ description: 'JSON Pointer to the field' }),
            message: Type.String(),
            action: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    action: Type.Optional(Type.String({ description: 'what the operator must do (422)' })),
    retryAfter: Type.Optional(Type.Integer({ description: 'seconds to wait, as the Retry-After header says (429)' })),
  },
  { additionalProperties: true, title: 'Problem' },
);

const PROBLEM = 'application/problem+json';
const retryAfter = (description: string) => ({
  'Retry-After': { description, schema: Type.Integer({ minimum: 1 }) },
});

/** The problem answers by status (0: any other), each a component of the document. */
export const PROBLEM_REPLIES: Record<number, Reply & { component: string }> = {
  0: { component: 'Problem', description: 'RFC 9457 problem', mediaType: PROBLEM, schema: ProblemSchema },
  401: {
    component: 'Unauthenticated',
    description: 'no API key, or one that is wrong or revoked',
    mediaType: PROBLEM,
    schema: ProblemSchema,
    headers: { 'WWW-Authenticate': { description: 'Bearer', schema: Type.String() } },
  },
  429: {
    component: 'TooManyRequests',
    description: 'too many requests: nothing was done; retry after the seconds given',
    mediaType: PROBLEM,
    schema: ProblemSchema,
    headers: retryAfter('seconds to wait'),
  },
  503: {
    component: 'Unavailable',
    description:
      'the database cannot be reached (or did not answer in time): nothing partial was done; retry after ' +
      'the seconds given, with the same event ids',
    mediaType: PROBLEM,
    schema: ProblemSchema,
    headers: retryAfter(`seconds to wait (${RETRY_AFTER_SECONDS})`),
  },
};
