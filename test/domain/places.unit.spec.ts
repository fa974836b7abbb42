import { expect } from 'chai';
import { placeIssue, retainedPlace, type PlaceField } from '../../src/domain/places.js';
import { decideAnonymization } from '../../src/domain/forgetting.js';
import { decideOrderPurge } from '../../src/domain/order-purge.js';
import { foldContactView, type ViewEvent } from '../../src/domain/contact-view.js';

/**
 * The clear parts of a place (reference: ticketing-gdpr-features-v2.en.txt, "country, town and post
 * code are kept"): a place and nothing else, when published and when copied into the clear part.
 */
const places: Array<[PlaceField, string, boolean, string]> = [
  ['country', 'FR', true, 'an ISO 3166-1 alpha-2 code'],
  ['country', 'CH', true, 'the demo institution’s Swiss code'],
  ['country', 'fr', false, 'a code in lower case'],
  ['country', 'FRA', false, 'an alpha-3 code'],
  ['country', 'France', false, 'a name'],
  ['town', 'Lyon', true, 'a town'],
  ['town', 'Genève', true, 'accented letters'],
  ['town', 'Saint-Étienne', true, 'hyphens'],
  ['town', "L'Haÿ-les-Roses", true, 'an apostrophe'],
  ['town', "'s-Hertogenbosch", true, 'a leading apostrophe'],
  ['town', 'St. Gallen', true, 'a dot'],
  ['town', 'Frankfurt (Oder)', true, 'a river in parentheses'],
  ['town', 'Paris 8e', true, 'an arrondissement'],
  ['town', 'Lyon 1er', true, 'a first arrondissement'],
  ['town', 'Paris Cedex 08', true, 'a CEDEX number'],
  ['town', 'Marseille 13ème arrondissement', true, 'a district number inside the name'],
  ['town', 'Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson', true, 'the longest French commune'],
  ['town', 'jeanne.martin@example.org', false, 'an e-mail address'],
  ['town', '+33 6 12 34 56 78', false, 'a phone number'],
  ['town', 'Lyon, call 06 12 34 56 78', false, 'a phone number in a text'],
  ['town', 'Lyon 69001', false, 'a postcode in the town'],
  ['town', '12 rue des Tilleuls', false, 'a street'],
  ['town', 'Lyon; ask for Jeanne (allergic)!', false, 'punctuation of free text'],
  ['town', 'x'.repeat(81), false, 'over 80 characters'],
  ['town', '', false, 'empty'],
  ['postcode', '69001', true, 'a French postcode'],
  ['postcode', '1201', true, 'a Swiss postcode'],
  ['postcode', 'SW1A 1AA', true, 'a British postcode'],
  ['postcode', 'K1A 0B1', true, 'a Canadian postcode'],
  ['postcode', 'D02 X285', true, 'an Eircode'],
  ['postcode', '12345-6789', true, 'a ZIP+4'],
  ['postcode', '00-950', true, 'a Polish postcode'],
  ['postcode', '01310-100', true, 'a Brazilian CEP (the digits of a phone number, written 5-3)'],
  ['postcode', '0612345678', false, 'a national phone number'],
  ['postcode', '33612345678', false, 'an international number without its +'],
  ['postcode', '+41791234567', false, 'an international number'],
  ['postcode', 'a@b.fr', false, 'an e-mail address'],
  ['postcode', 'JEANNE', false, 'a word without a digit'],
  ['postcode', '69001 LYON 01', false, 'over 12 characters'],
  ['postcode', '69001!', false, 'punctuation'],
];

describe('the clear parts of a place (placeIssue)', () => {
  for (const [field, value, ok, what] of places) {
    it(`${field}: ${what} ${ok ? 'passes' : 'is refused'}`, () => {
      const issue = placeIssue(field, value);
      if (ok) expect(issue).to.equal(null);
      else {
        expect(issue).to.be.a('string');
        if (value.length > 3) expect(issue).not.to.contain(value);
      }
    });
  }

  it('keeps the parts that pass and drops the others (retainedPlace)', () => {
    const address = { street: '1 rue X', town: 'a@b.fr', postcode: '0612345678', country: 'FR' };
    expect(retainedPlace(address)).to.deep.equal({ country: 'FR' });
    expect(retainedPlace(address, ['town'])).to.deep.equal({});
    expect(retainedPlace(undefined)).to.deep.equal({});
  });
});

let n = 0;
const event = (type: string, data: Record<string, unknown>): ViewEvent =>
  ({
    id: `e${++n}`,
    type,
    position: n,
    occurredAt: '2024-01-01T00:00:00.000Z',
    organizationId: 'O',
    data,
    erased: [],
  }) as ViewEvent;

describe('a place published before the rule is not copied into the clear part', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('an anonymization retains only the parts that pass', () => {
    const view = foldContactView('C-1', [
      event('ContactRegistered', {
        role: 'individual',
        address: { street: '1 rue X', town: 'jeanne@example.org', postcode: '0612345678', country: 'FR' },
      }),
    ]);
    const decision = decideAnonymization(view, { reason: 'request', requestId: 'R-1' }, now);
    expect(decision?.data.retained).to.deep.equal({ country: 'FR' });
  });

  it('a view shows no part of an older forgetting that fails the rule', () => {
    const view = foldContactView('C-1', [
      event('ContactRegistered', { role: 'individual' }),
      event('ContactAnonymized', {
        reason: 'request',
        requestId: 'R-1',
        retained: { country: 'FR', town: 'Lyon', postcode: '0612345678' },
      }),
    ]);
    expect(view.retained).to.deep.equal({ country: 'FR', town: 'Lyon' });
  });

  it("an order purge retains the beneficiary's country only when it passes", () => {
    const sold = (country: string) => [
      {
        type: 'TicketSold',
        occurredAt: '2019-12-01T00:00:00.000Z',
        data: {
          orderId: 'O-1',
          product: { kind: 'dated', validUntil: '2020-01-01T00:00:00.000Z' },
          beneficiary: { firstName: 'Jeanne', address: { country } },
        },
      },
    ];
    const retained = (country: string) =>
      decideOrderPurge(sold(country), 'O-1', { cutoff: '2021-01-01T00:00:00.000Z', runId: 'RUN-1', legalHold: false })
        .events[0]?.data.retained;
    expect(retained('CH')).to.deep.equal({ beneficiaryCountry: 'CH' });
    expect(retained('jeanne@example.org')).to.deep.equal({});
  });
});
