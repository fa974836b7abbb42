import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/log.js';
import type { TestLedger } from './ledger.js';

export interface Api {
  url: string;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; type: string; body: any }>;
  postRaw(
    path: string,
    raw: string | Buffer,
    contentType?: string,
  ): Promise<{ status: number; type: string; body: any }>;
  get(path: string): Promise<{ status: number; type: string; body: any; text: string }>;
  close(): Promise<void>;
}

/** The real express app on an ephemeral loopback port, in front of a real ledger. */
export async function startApi(ledger: TestLedger, maxBodyBytes = 1024 * 1024): Promise<Api> {
  const app = createApp(ledger, createLogger(process.env.TEST_LOG ?? 'silent'), { maxBodyBytes });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const request = async (path: string, init: RequestInit) => {
    const response = await fetch(`${url}${path}`, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, type: response.headers.get('content-type') ?? '', body, text };
  };
  return {
    url,
    post: (path, body, headers = {}) =>
      request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    postRaw: (path, raw, contentType = 'application/json') =>
      request(path, { method: 'POST', headers: { 'content-type': contentType }, body: raw }),
    get: (path) => request(path, { method: 'GET' }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
