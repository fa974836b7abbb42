import { expect } from 'chai';
import { CalendarDate, Instant } from '../../src/domain/schema-kit.js';
import { normalizeInstants, validatorFor } from '../../src/domain/validation.js';

/** The two date formats of the catalog: what they take is what a `Date` holds, in the ledger's years. */
describe('date formats', () => {
  const instant = Instant();
  const isInstant = validatorFor(instant);
  const isCalendarDate = validatorFor(CalendarDate());

  const instants: Array<[string, string, boolean]> = [
    ['UTC with milliseconds', '2026-06-30T23:59:59.999Z', true],
    ['an offset', '2026-07-01T01:59:59+02:00', true],
    ['more digits than milliseconds', '2026-06-30T23:59:59.123456789Z', true],
    ['the first instant of 1900', '1900-01-01T00:00:00Z', true],
    ['the last second of 2199', '2199-12-31T23:59:59Z', true],
    ['a year before 1900 written in 1900 (UTC+14)', '1900-01-01T00:00:00+14:00', false],
    ['a year after 2199 written in 2199 (UTC-14)', '2199-12-31T23:00:00-14:00', false],
    ['a leap second', '2026-06-30T23:59:60Z', false],
    ['a leap second with an offset', '2026-07-01T01:59:60+02:00', false],
    ['February 30', '2026-02-30T10:00:00Z', false],
    ['February 29 of a common year', '2026-02-29T10:00:00Z', false],
    ['hour 24', '2026-06-30T24:00:00Z', false],
    ['minute 60', '2026-06-30T10:60:00Z', false],
    ['an offset of 24 hours', '2026-06-30T10:00:00+24:00', false],
    ['no time zone', '2026-06-30T10:00:00', false],
    ['an expanded year beyond the Date range', '+275760-09-14T00:00:00Z', false],
  ];
  for (const [what, value, ok] of instants) {
    it(`instant: ${ok ? 'takes' : 'refuses'} ${what}`, () => expect(isInstant(value)).to.equal(ok));
  }

  it('every instant taken normalises to UTC without throwing, and is still an instant', () => {
    for (const [, value, ok] of instants) {
      if (!ok) continue;
      const normalized = normalizeInstants(instant, value) as string;
      expect(normalized).to.match(/Z$/);
      expect(isInstant(normalized), normalized).to.equal(true);
    }
  });

  const days: Array<[string, boolean]> = [
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-02-30', false],
    ['2026-04-31', false],
    ['1899-12-31', false],
    ['2200-01-01', false],
  ];
  for (const [value, ok] of days) {
    it(`calendar-date: ${ok ? 'takes' : 'refuses'} ${value}`, () => expect(isCalendarDate(value)).to.equal(ok));
  }
});
