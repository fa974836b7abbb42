/**
 * `contact-ledger/client`: the typed client of the ledger's HTTP API, for upstream systems and the
 * operator console. Its types are generated from the API document (schema.generated.ts, `npm run
 * openapi`); the calls are openapi-fetch's (`ledger.POST('/v1/events', { body })`), each answering
 * `{ data }` or `{ error, response }`. It imports nothing of the server, and logs nothing: a problem
 * carries what the ledger answered, to the caller alone.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.generated.js';

export type { components, operations, paths };
/** An RFC 9457 problem as the ledger answers it; `type` is what to switch on (README "Problems"). */
export type Problem = components['schemas']['Problem'];
/** The body of `POST /v1/events`: one event, or `{ events: [...] }`. */
export type PublishBody = components['schemas']['PublishBody'];
/** One event of a published batch (its `id`, a UUID, makes a retry idempotent). */
export type PublishedEvent = Extract<PublishBody, { events: unknown }>['events'][number];
/** What `POST /v1/events` answers: the events appended, and the ids already stored (a retry's). */
export type PublishResult = components['schemas']['PublishResult'];
export type LedgerClient = Client<paths>;

export interface LedgerClientOptions {
  /** The ledger's address, without a path (`https://ledger.example.org`). */
  baseUrl: string;
  /** An API key (`ledger keys create`) of a role that may use the routes called; sent as a bearer token. */
  apiKey: string;
  /** A fetch of your own (a proxy, a test double); the global fetch otherwise. */
  fetch?: (request: Request) => Promise<Response>;
}

/** A client of every route of the API document, sending the API key with each request. */
export function createLedgerClient({ baseUrl, apiKey, fetch }: LedgerClientOptions): LedgerClient {
  const client = createClient<paths>({ baseUrl, ...(fetch ? { fetch } : {}) });
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${apiKey}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

/**
 * What a refusal asks of the caller, from the problem's `type` (stable, unlike its title):
 * - `conflict` (409 concurrency-conflict): the stream moved since the `expectedRevision` given
 *   (`actualRevision` says where it is): re-read, decide again, publish with the new revision;
 * - `id-reused` (409 event-id-already-used): an event id already stored for another event: a bug of
 *   the sender, not a retry (a retry of the same event answers 200 with it in `duplicates`);
 * - `unavailable` (503): nothing partial was done: send the same request again, with the same event
 *   ids, after `retryAfterSeconds`;
 * - `throttled` (429): nothing was done: again after `retryAfterSeconds`;
 * - `refused`: any other problem (its `type`, `detail` and `action` say which and what to do).
 */
export type ProblemKind = 'conflict' | 'id-reused' | 'unavailable' | 'throttled' | 'refused';

const KINDS: Partial<Record<Problem['type'], ProblemKind>> = {
  'urn:contact-ledger:problem:concurrency-conflict': 'conflict',
  'urn:contact-ledger:problem:event-id-already-used': 'id-reused',
  'urn:contact-ledger:problem:service-unavailable': 'unavailable',
  'urn:contact-ledger:problem:too-many-requests': 'throttled',
};

/**
 * A problem answered by the ledger, as an error. Its message holds the status, title and type only:
 * `detail` may name contact ids or fields, so it stays in `problem`, for the caller to decide.
 */
export class LedgerProblem extends Error {
  override readonly name = 'LedgerProblem';
  readonly kind: ProblemKind;
  readonly status: number;
  /** Seconds to wait before the same request (503, 429): the Retry-After header; null when it has none. */
  readonly retryAfterSeconds: number | null;
  constructor(
    readonly problem: Problem,
    response: Response,
  ) {
    super(`${response.status} ${problem.title} (${problem.type})`);
    this.status = response.status;
    this.kind = KINDS[problem.type] ?? (response.status === 503 ? 'unavailable' : 'refused');
    this.retryAfterSeconds = retryAfter(response.headers.get('retry-after'));
  }

  /** The stream of a `conflict` (`contact-<contactId>` for a contact's, as `appended[].stream` names it). */
  get stream(): string | null {
    const stream = this.problem['stream'];
    return typeof stream === 'string' ? stream : null;
  }

  /** The stream's revision now, for a `conflict`: publish again with it as `expectedRevision`. */
  get actualRevision(): number | null {
    const revision = this.problem['actualRevision'];
    return typeof revision === 'number' ? revision : null;
  }
}

/** Retry-After in seconds: a number of seconds, or an HTTP date (what a proxy in front may send). */
function retryAfter(header: string | null): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** A body that is not a problem (a proxy's page, an empty answer) as one, named by its status. */
function asProblem(error: unknown, response: Response): Problem {
  if (error && typeof error === 'object' && typeof (error as Problem).type === 'string') return error as Problem;
  const title = response.statusText || `HTTP ${response.status}`;
  return { type: 'about:blank', title, status: response.status, detail: 'the answer holds no problem of the ledger' };
}

/** The answer of a call of the client: `{ data, response }`, or `{ error, response }` (a non-2xx answer). */
type Answer = { data?: unknown; error?: unknown; response: Response };
/** The data of an answer's success branch (the one whose `error` is never set). */
type DataOf<A extends Answer> = Extract<A, { error?: never }>['data'];

/** The problem of an answer (a LedgerProblem to inspect), or null when it succeeded. */
export function problemOf(answer: Answer): LedgerProblem | null {
  return answer.response.ok ? null : new LedgerProblem(asProblem(answer.error, answer.response), answer.response);
}

/** The data of a call, or its LedgerProblem thrown: `const view = await unwrap(ledger.GET(...))`. */
export async function unwrap<A extends Answer>(call: Promise<A>): Promise<DataOf<A>> {
  const answer = await call;
  const problem = problemOf(answer);
  if (problem) throw problem;
  return answer.data as DataOf<A>;
}
