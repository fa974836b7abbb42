import { expect } from 'chai';
import { chooseLanguage, LANGUAGES, MESSAGES, type Messages } from '../../src/web/messages/index.js';
import { en } from '../../src/web/messages/en.js';

/** Every text's path in a catalog, with what it is (a text, or a function of values). */
function shapeOf(value: unknown, path = ''): string[] {
  if (typeof value === 'function') return [`${path} ƒ${value.length}`];
  if (typeof value === 'string') return [`${path} "${value.trim() === '' ? 'empty' : 'text'}"`];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => shapeOf(inner, `${path}/${key}`));
}

describe('privacy center: message catalogs', () => {
  it('have the same texts in every language, none empty (a missing one is also a type error)', () => {
    const reference = shapeOf(MESSAGES.fr);
    expect(reference.length).to.be.greaterThan(40);
    for (const language of LANGUAGES) {
      expect(shapeOf(MESSAGES[language]), language).to.deep.equal(reference);
      expect(shapeOf(MESSAGES[language]).filter((line) => line.endsWith('"empty"'))).to.deep.equal([]);
    }
    // @ts-expect-error a catalog without one of its texts does not compile
    const incomplete: Messages = { ...en, title: undefined };
    expect(incomplete.title).to.equal(undefined);
  });

  it("name a downstream confirmation without saying the reader's details went (a purge of others' kept them)", () => {
    // A person forgotten has no timeline to read: an ErasureConfirmed a person reads is a system's
    // word on OrderDataPurged, other people's details on their order, while theirs are kept.
    expect(MESSAGES.en.eventNames.ErasureConfirmed).not.to.match(/your details/i);
    expect(MESSAGES.fr.eventNames.ErasureConfirmed).not.to.match(/vos données/i);
  });

  const cases: Array<[string, unknown, string | undefined, string]> = [
    ['the switch wins over the browser', 'en', 'fr-FR,fr', 'en'],
    ['an unknown switch is ignored', 'de', 'en-GB', 'en'],
    ['the first language the center speaks, by quality', undefined, 'de;q=1, en;q=0.5, fr;q=0.8', 'fr'],
    ['a region is its language', undefined, 'en-US', 'en'],
    ['a language refused (q=0) is not chosen', undefined, 'en;q=0, fr;q=0.1', 'fr'],
    ['none the center speaks: the default', undefined, 'de-DE, it', 'fr'],
    ['no header: the default', undefined, undefined, 'fr'],
  ];
  for (const [name, asked, header, expected] of cases) {
    it(`chooses the language: ${name}`, () => expect(chooseLanguage(asked, header)).to.equal(expected));
  }
});
