import * as errors from './errors.js';
import { LedgerError } from './errors.js';

/**
 * Errors as they cross threads: a class is not cloned, so an error travels as its name and
 * fields and is made again here. Every LedgerError class of errors.ts is known by its name, so
 * any of them arrives with its class and status; another error arrives as an Error with its
 * name, message and code.
 */
export type WireError =
  | { kind: 'ledger'; name: string; message: string; fields: Record<string, unknown> }
  | { kind: 'failure'; name: string; message: string; code?: unknown };

type LedgerErrorClass = abstract new (...args: never[]) => LedgerError;

const isLedgerErrorClass = (value: unknown): value is LedgerErrorClass =>
  typeof value === 'function' && value.prototype instanceof LedgerError;

const LEDGER_ERRORS = new Map(
  Object.values(errors)
    .filter(isLedgerErrorClass)
    .map((errorClass) => [errorClass.name, errorClass]),
);

export function toWire(error: unknown): WireError {
  if (error instanceof LedgerError && LEDGER_ERRORS.has(error.name)) {
    // Own enumerable fields: status, title, details and whatever the class adds (revisions, issues).
    return { kind: 'ledger', name: error.name, message: error.message, fields: { ...error } };
  }
  const { name, message, code } =
    error instanceof Error
      ? (error as Error & { code?: unknown })
      : { name: 'Error', message: String(error), code: undefined };
  return { kind: 'failure', name, message, code };
}

export function fromWire(wire: WireError): Error {
  if (wire.kind === 'ledger') {
    const errorClass = LEDGER_ERRORS.get(wire.name)!;
    const error = Object.assign(Object.create(errorClass.prototype) as LedgerError, wire.fields);
    // As Error's constructor makes it: an own property that does not enumerate.
    return Object.defineProperty(error, 'message', { value: wire.message, writable: true, configurable: true });
  }
  return Object.assign(new Error(wire.message), { name: wire.name, code: wire.code });
}
