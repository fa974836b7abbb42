import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';
import { TooManyRequests } from '../domain/errors.js';

export interface RateLimit {
  /** Requests one key may make within a window. */
  requests: number;
  /** The window's length in milliseconds, from the key's first request in it. */
  windowMs: number;
}

/**
 * Requests on one consent link, reads and answers together: loading the page and answering each
 * purpose stays well within it; a link replayed by a script gets twenty a minute (and an answer
 * that changes nothing appends nothing anyway).
 */
export const CONSENT_LINK_LIMIT: RateLimit = { requests: 20, windowMs: 60_000 };

/**
 * Requests on the privacy center from one address, every link together: a person reading and
 * answering their page, or a household or an office behind one address, stays well within it; a
 * script that tries tokens, or replays many links at once, is slowed whatever links it holds.
 */
export const PRIVACY_ADDRESS_LIMIT: RateLimit = { requests: 120, windowMs: 60_000 };

/** Keys whose windows are remembered at once: the least recently seen are forgotten first. */
const REMEMBERED_KEYS = 100_000;

/**
 * A fixed-window count of requests per key, in this process's memory, refused with 429 and
 * Retry-After past the limit (before anything else runs: nothing is read nor appended). The key
 * is kept as its SHA-256 only: a key that is a secret (a link's token) is neither held nor logged.
 */
export function rateLimit(limit: RateLimit, keyOf: (req: Request) => string): RequestHandler {
  const windows = new LRUCache<string, { count: number; endsAt: number }>({ max: REMEMBERED_KEYS });
  return (req, _res, next) => {
    const key = createHash('sha256').update(keyOf(req)).digest('base64url');
    const now = performance.now();
    let window = windows.get(key);
    if (!window || window.endsAt <= now) windows.set(key, (window = { count: 0, endsAt: now + limit.windowMs }));
    window.count += 1;
    if (window.count > limit.requests) throw new TooManyRequests(Math.ceil((window.endsAt - now) / 1000));
    next();
  };
}
