import { expect } from 'chai';
import { guardText, REMARK_RECOMMENDATIONS, TEXT_GUARD_CATEGORIES } from '../../src/domain/text-guard.js';
import { LABELLED_NOTES } from '../fixtures/text-guard-set.js';

/** Sentence-level precision and recall: a positive is found when one of its categories is warned. */
function evaluate() {
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  const misses: string[] = [];
  for (const { text, categories } of LABELLED_NOTES) {
    const warned = new Set(guardText(text).map((warning) => warning.category));
    if (categories.length === 0) {
      if (warned.size > 0) (falsePositives++, misses.push(`false alarm: ${text}`));
    } else if (categories.some((category) => warned.has(category))) truePositives++;
    else (falseNegatives++, misses.push(`missed: ${text}`));
  }
  const precision = truePositives / (truePositives + falsePositives);
  const recall = truePositives / (truePositives + falseNegatives);
  return { precision, recall, misses };
}

describe('text guard (special-category and judgemental wording, French and English)', () => {
  const { precision, recall, misses } = evaluate();
  const positives = LABELLED_NOTES.filter((note) => note.categories.length > 0).length;

  it(
    `on ${LABELLED_NOTES.length} labelled notes (${positives} positive): ` +
      `precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}, both ≥ 0.9`,
    () => {
      expect(LABELLED_NOTES.length).to.be.at.least(80);
      expect(precision, misses.join('\n')).to.be.at.least(0.9);
      expect(recall, misses.join('\n')).to.be.at.least(0.9);
    },
  );

  it('the labelled set covers every category', () => {
    const covered = new Set(LABELLED_NOTES.flatMap((note) => note.categories));
    expect([...covered].sort()).to.deep.equal([...TEXT_GUARD_CATEGORIES].sort());
  });

  it('names the words as written (accents, case, feminine and plural forms) and gives the advice', () => {
    const [warning] = guardText('Clientes DIABÉTIQUES et enceintes');
    expect(warning).to.deep.include({ category: 'health', words: ['DIABÉTIQUES', 'enceintes'] });
    expect(warning!.advice).to.match(/^Avoid directly or indirectly revealing personal data/);
    expect(guardText('Très désagréable')[0]!.advice).to.match(/^Be objective/);
  });

  it('quotes the right words after characters outside the basic plane', () => {
    expect(guardText('🎭🎭 syndiquée')[0]).to.deep.include({ category: 'union-membership', words: ['syndiquée'] });
  });

  it('reads a word with a combining accent or split by an invisible character, quoted as written', () => {
    for (const word of ['diabe\u0301tique', 'diab\u00ADétique', 'diab\u200Bétique', 'diab\u2060étique']) {
      expect(guardText(`Cliente ${word} !`), JSON.stringify(word)).to.deep.equal([
        { category: 'health', words: [word], advice: guardText('diabétique')[0]!.advice },
      ]);
    }
  });

  const named: Array<[string, string, string[]]> = [
    ['Cliente d’origine marocaine', 'ethnic-origin', ['origine marocaine']],
    ['Son père est alcoolique', 'health', ['alcoolique']],
    ['Ancienne toxicomane', 'health', ['toxicomane']],
    ['Moroccan family', 'ethnic-origin', ['Moroccan family']],
    ['Known alcoholic', 'health', ['alcoholic']],
  ];
  for (const [text, category, words] of named) {
    it(`finds ${category} in "${text}"`, () =>
      expect(guardText(text)).to.deep.include.members([
        { category, words, advice: REMARK_RECOMMENDATIONS.en.points[2] },
      ]));
  }

  it("the recommendations are the reference page's, and the advice quotes the points broken", () => {
    expect(REMARK_RECOMMENDATIONS.en.title).to.equal('Remark recommendations');
    expect(REMARK_RECOMMENDATIONS.en.intro).to.equal(
      'Data entered in the comments area must comply with all relevant personal data regulations. ' +
        'In particular it must:',
    );
    expect(REMARK_RECOMMENDATIONS.en.points).to.have.length(4);
    expect(REMARK_RECOMMENDATIONS.fr.points).to.have.length(4);
    expect(REMARK_RECOMMENDATIONS.en.points[0]).to.match(/^Be relevant, adequate, not excessive/);
    const [, objective, , offensive] = REMARK_RECOMMENDATIONS.en.points;
    expect(guardText('Très désagréable')[0]!.advice).to.equal(`${objective} ${offensive}`);
  });

  it('finds nothing in a name of a street, a venue or an event', () => {
    for (const text of ['Rue de la Santé', 'festival de la foi', 'Opéra de Lyon', 'église Sainte-Marie']) {
      expect(guardText(text), text).to.deep.equal([]);
    }
  });
});
