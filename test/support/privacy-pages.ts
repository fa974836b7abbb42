import { expect } from 'chai';
import { issueConsentLink } from '../../src/app/consent-links.js';
import { person, registered, type Person } from './events.js';
import type { Api } from './http.js';
import type { TestLedger } from './ledger.js';

/** A browser's answer: status, headers and the page's HTML. */
export interface Browsed {
  status: number;
  headers: Headers;
  html: string;
}

/**
 * The privacy center as a browser without JavaScript drives it: GETs and form POSTs, no API key,
 * no redirect followed (a test reads the 303 itself).
 */
export function browserOf(api: Api, ledger: TestLedger) {
  const browse = async (path: string, init: RequestInit = {}): Promise<Browsed> => {
    const response = await fetch(`${api.url}${path}`, { redirect: 'manual', ...init });
    return { status: response.status, headers: response.headers, html: await response.text() };
  };
  return {
    browse,
    get: (path: string, language = 'fr-FR,fr;q=0.9,en;q=0.8') =>
      browse(path, { headers: { 'accept-language': language } }),
    /** A form posted to `path` (the page's path and the form's own, e.g. `/consents`). */
    post: (path: string, fields: Record<string, string>) =>
      browse(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      }),
    /** A registered person (and more of their events, when given) and the path of their page. */
    newPerson: async (
      events: (p: Person) => unknown[] = () => [],
    ): Promise<{ p: Person; path: string; token: string }> => {
      const p = person();
      expect((await api.post('/v1/events', { events: [registered(p), ...events(p)] })).status).to.equal(201);
      const { token } = await issueConsentLink(ledger, p.contactId);
      return { p, path: `/privacy/${token}`, token };
    },
  };
}

/** The anti-forgery token of the page's first form. */
export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
