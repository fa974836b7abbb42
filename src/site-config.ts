/**
 * What the person's pages say about where they are (issue 26, README "Configuration"): the origin
 * people reach the ledger at, which the links sent to them start with, and the institution the
 * privacy center speaks for. Read once at start: a bad value refuses the start, naming the variable.
 */

/** Who the privacy center speaks for; null: not configured. */
export interface Institution {
  /** LEDGER_INSTITUTION_NAME. */
  name: string | null;
  /** LEDGER_PRIVACY_POLICY_URL: https (http on localhost, for development). */
  privacyPolicyUrl: string | null;
}

export interface SiteConfig {
  /** LEDGER_PUBLIC_URL without its trailing slash: `${publicUrl}/privacy/<token>` is a person's link. */
  publicUrl: string;
  institution: Institution;
}

/** Long enough for any institution's name, short enough for a page's header. */
const INSTITUTION_NAME_MAX = 200;

export function readSiteConfig(env: NodeJS.ProcessEnv, port: number): SiteConfig {
  return {
    publicUrl: readPublicUrl(env['LEDGER_PUBLIC_URL'] ?? `http://localhost:${port}`),
    institution: {
      name: readInstitutionName(env['LEDGER_INSTITUTION_NAME'] ?? ''),
      privacyPolicyUrl: readPolicyUrl(env['LEDGER_PRIVACY_POLICY_URL'] ?? ''),
    },
  };
}

const refusal = (variable: string, expected: string) => (why: string) =>
  new Error(`${variable} must be ${expected}: ${why}`);

/**
 * The value as a URL, or why not. A URL with a user or password is refused: it would be printed
 * in every link, or shown on every page. The value itself is never repeated (it might hold one).
 */
function parseUrl(value: string, refuse: (why: string) => Error): URL {
  if (!URL.canParse(value)) throw refuse('it is not a URL');
  const url = new URL(value);
  if (url.username !== '' || url.password !== '') throw refuse('it holds a user name or password');
  return url;
}

function readPublicUrl(value: string): string {
  const refuse = refusal(
    'LEDGER_PUBLIC_URL',
    'the http(s) origin people reach the ledger at, such as https://privacy.example.org',
  );
  const url = parseUrl(value, refuse);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse(`${url.protocol} is not http(s)`);
  // Links are made by appending /privacy/<token>: a query or a fragment would end up before it.
  if (value.includes('?')) throw refuse('it has a query (?…)');
  if (value.includes('#')) throw refuse('it has a fragment (#…)');
  return url.href.replace(/\/+$/, '');
}

/**
 * https only: the person follows it from their page, and a policy page is no place for a
 * downgrade; http on localhost, for development.
 */
function readPolicyUrl(value: string): string | null {
  if (value === '') return null;
  const refuse = refusal('LEDGER_PRIVACY_POLICY_URL', 'an https:// URL (http://localhost for development)');
  const url = parseUrl(value, refuse);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === 'localhost')) return url.href;
  throw refuse(`${url.protocol}//${url.hostname} is neither`);
}

function readInstitutionName(value: string): string | null {
  const name = value.trim();
  if (name === '') return null;
  const refuse = refusal('LEDGER_INSTITUTION_NAME', `one line of text of at most ${INSTITUTION_NAME_MAX} characters`);
  if (name.length > INSTITUTION_NAME_MAX) throw refuse(`it has ${name.length}`);
  // A name shown in a page's header: no line break nor any other control character.
  if (/\p{Cc}/u.test(name)) throw refuse('it holds a control character');
  return name;
}
