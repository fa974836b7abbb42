import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type ApiOptions } from '../../src/api/app.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { TestLedger } from './ledger.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';

/** The problem type of an answer that does not match its route's schema (src/api/wiring.ts). */
const NOT_AS_DOCUMENTED = 'urn:contact-ledger:problem:response-not-as-documented';

/** An answer of the API: its status, content type, parsed body (or text), text and headers. */
export interface Answer {
  status: number;
  type: string;
  body: any;
  text: string;
  headers: Headers;
}

export interface Api {
  url: string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  put(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  postRaw(path: string, raw: string | Buffer, contentType?: string, headers?: Record<string, string>): Promise<Answer>;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  delete(path: string, headers?: Record<string, string>): Promise<Answer>;
  /** The admin key every request sends unless its headers say otherwise. */
  adminKey: string;
  close(): Promise<void>;
}

/**
 * The real express app on an ephemeral loopback port, in front of a real ledger; `log`: to capture
 * its lines; `options`: more of the API's options (LEDGER_PUBLIC_URL's, the institution).
 */
export async function startApi(
  ledger: TestLedger,
  maxBodyBytes = 1024 * 1024,
  log: Logger = createLogger(process.env.TEST_LOG ?? 'silent'),
  options: Pick<ApiOptions, 'publicUrl' | 'institution' | 'trustProxy'> = {},
): Promise<Api> {
  const app = createApp(ledger, log, {
    ...options,
    maxBodyBytes,
    allowedHosts: ['127.0.0.1', 'localhost'],
    // Every answer checked against the API document: a mismatch is a 500 naming the route and the schema path.
    validateResponses: true,
  });
  const { token: adminKey } = await issueApiKey(ledger, { role: 'admin', name: 'test-admin' });
  const withKey = (headers: Record<string, string>) => ({ authorization: `Bearer ${adminKey}`, ...headers });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  // spawnSync (a CLI run) blocks this process's event loop, the server's and the client's timers
  // alike: past the server's keep-alive, it could close a socket the client is about to reuse.
  server.keepAliveTimeout = 60_000;
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const request = async (path: string, init: RequestInit): Promise<Answer> => {
    const response = await fetch(`${url}${path}`, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const type = response.headers.get('content-type') ?? '';
    // An answer the API document does not describe fails the test here, whatever the test expected.
    if ((body as { type?: unknown } | null)?.type === NOT_AS_DOCUMENTED)
      throw new Error((body as { detail: string }).detail);
    return { status: response.status, type, body, text, headers: response.headers };
  };
  return {
    url,
    post: (path, body, headers = {}) =>
      request(path, {
        method: 'POST',
        headers: withKey({ 'content-type': 'application/json', ...headers }),
        body: JSON.stringify(body),
      }),
    put: (path, body, headers = {}) =>
      request(path, {
        method: 'PUT',
        headers: withKey({ 'content-type': 'application/json', ...headers }),
        body: JSON.stringify(body),
      }),
    postRaw: (path, raw, contentType = 'application/json', headers = {}) =>
      // A Buffer as its bytes: Preact's JSX types bring the DOM's BodyInit, which does not name Buffer.
      request(path, {
        method: 'POST',
        headers: withKey({ 'content-type': contentType, ...headers }),
        body: typeof raw === 'string' ? raw : new Uint8Array(raw),
      }),
    get: (path, headers = {}) => request(path, { method: 'GET', headers: withKey(headers) }),
    delete: (path, headers = {}) => request(path, { method: 'DELETE', headers: withKey(headers) }),
    adminKey,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
