import { expect } from 'chai';
import { CalendarDate, Code, Instant, Text } from '../../src/domain/schema-kit.js';
import { looksPersonal } from '../../src/domain/identifiers.js';
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

/** The one check of clear values (issue 24, finding 7): an e-mail or a phone number in any common form. */
describe('clear values that look personal', () => {
  const personalLooking: Array<[string, string]> = [
    ['an e-mail address', 'v3 alice@example.org'],
    ['a percent-encoded e-mail address', 'https://example.org/u?who=alice%40example.org'],
    ['a mailto link, percent-encoded', 'mailto%3Aalice%40example.org'],
    ['an international number without +', '33612345678'],
    ['a national number', '0612345678'],
    ['a tel: link', 'tel:+33612345678'],
    ['a tel: link with separators', 'tel:06-12-34-56-78'],
    ['an sms: link', 'sms:+33612345678'],
    ['a number in a url query', 'https://example.org/call?to=+33612345678'],
    ['a percent-encoded number in a url', 'https://example.org/call?to=%2B33612345678'],
    ['a number written in a text', 'call +33 6 12 34 56 78 today'],
  ];
  for (const [what, value] of personalLooking) {
    it(`refuses ${what}`, () => expect(looksPersonal(value), value).to.equal(true));
  }
  const clear: Array<[string, string]> = [
    ['a code', 'newsletter'],
    ['a season code', '2024-2025'],
    ['an order id with leading zeros', 'O-0012345678'],
    ['a UUID', '0190f0a4-0047-4562-9b1c-25c1d1f1a7a3'],
    ['a policy url', 'https://example.org/privacy/v3'],
    ['a url with percent-encoding', 'https://example.org/saison%202025'],
    ['malformed percent-encoding', 'https://example.org/100%'],
    ['a version', 'v3.2'],
  ];
  for (const [what, value] of clear) {
    it(`passes ${what}`, () => expect(looksPersonal(value), value).to.equal(false));
  }
  it('text: what people write, tab and line breaks included; no control character, override or lone surrogate', () => {
    const isText = validatorFor(Text(200));
    for (const value of [
      'Zoé',
      'line one\nline two\r\n\tindented',
      'emoji 😀',
      'Ⅻ rue',
      'a\u2028b',
      'v\u000Bt',
      '\u2068محمد\u2069',
    ]) {
      expect(isText(value), JSON.stringify(value)).to.equal(true);
    }
    for (const value of [
      'x\u0000',
      '\u001b[31mred',
      'bell\u0007',
      'del\u007f',
      'c1\u0091',
      'a\u202Eb',
      'a\u202Db',
      '\uD83D',
      'x\uDE00',
    ]) {
      expect(isText(value), JSON.stringify(value)).to.equal(false);
    }
  });

  it('codes: slugs that are not phone numbers', () => {
    const isCode = validatorFor(Code());
    expect(isCode('newsletter')).to.equal(true);
    expect(isCode('0612345678')).to.equal(false);
    expect(isCode('33612345678')).to.equal(false);
  });
});
