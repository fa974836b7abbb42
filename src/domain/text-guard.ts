/**
 * The free-text guard (ticketing-gdpr-features-v1.fr.txt, "Remark recommendations"): a note or a
 * remark must not reveal special-category data (GDPR art. 9 and 10) nor judge or offend the
 * person. Words are matched in French and English on the text folded to lower case without
 * accents, with their plural and feminine forms; a name of a place or of an event that merely
 * contains a word ("Rue de la Santé", "festival de la foi", "opéra") is not a match.
 */

export const TEXT_GUARD_CATEGORIES = [
  'health',
  'religion-or-philosophy',
  'ethnic-origin',
  'political-opinion',
  'union-membership',
  'sexual-life-or-orientation',
  'genetic-or-biometric',
  'criminal-record',
  'judgemental-or-offensive',
] as const;
export type TextGuardCategory = (typeof TEXT_GUARD_CATEGORIES)[number];

export interface TextWarning {
  category: TextGuardCategory;
  /** The words of the text that matched, as written. */
  words: string[];
  advice: string;
}

/** The reference page's recommendations, word for word. */
const SPECIAL_CATEGORY_ADVICE =
  'Avoid directly or indirectly revealing personal data such as racial or ethnic origins, political, ' +
  'philosophical or religious opinions, union affiliations; also avoid revealing data relating to genetic, ' +
  'biometric, health, sexual proclivity, or habits, criminal record or related security infringements.';
const JUDGEMENT_ADVICE =
  'Be objective: not value judgements or opinions relating to the behaviour of the parties concerned; ' +
  '(to that end, you are advised to add strictly factual comments in finite sentences, avoiding the use of ' +
  'qualifiers). Avoid any expression which might be deemed offensive, derogatory, pejorative or detrimental ' +
  "to a person's reputation or infringe their personal privacy.";

/**
 * Word patterns by category, on folded text (lower case, no accents). `(e|s)` groups cover the
 * plural and feminine forms; each pattern matches whole words only.
 */
const LEXICON: Record<TextGuardCategory, string[]> = {
  health: [
    'malad(e|es|ie|ies)',
    'handicap(e|ee|es|ees)?',
    'diabet(e|es|ique|iques|ic|ics)',
    'cancer(s|eux|euse|euses)?',
    'enceinte(s)?',
    'pregnan(t|cy)',
    'grossesse',
    'depress(ion|ions|if|ive|ifs|ives|ed)',
    'epilep(sie|tique|tiques|sy|tic)',
    'alzheimer',
    'autis(me|te|tes|m|tic)',
    'allerg(ie|ies|ique|iques|y|ies|ic)',
    'asthm(e|atique|atiques|a|atic)',
    'sero ?positi(f|ve|fs|ves)',
    'hiv',
    'vih',
    'chimio(therapie)?',
    'chemo(therapy)?',
    'fauteuil roulant',
    'wheelchair(s)?',
    'disab(led|ility|ilities)',
    'illness(es)?',
    'sick',
    'disease(s)?',
    'operee?s? (du|de la|des|d)',
    'hospitali(se|see|ses|sees|sation|zed|zation)',
    'psychiatri(que|ques|c|st|ste)',
    'sourd(e|s|es)?',
    'deaf',
    'non[- ]voyant(e|s|es)?',
    'malvoyant(e|s|es)?',
    'visually impaired',
    'medicament(s)?',
    'medication(s)?',
    'traitement medical',
  ],
  'religion-or-philosophy': [
    'musulman(e|s|es)?',
    'muslim(s)?',
    'juif|juive|juifs|juives',
    'jewish',
    'catholique(s)?',
    'catholic(s)?',
    'protestant(e|s|es)?',
    'chretien(ne|s|nes)?',
    'christian(s)?',
    'athee(s)?',
    'atheist(s)?',
    'bouddhiste(s)?',
    'buddhist(s)?',
    'hindou(e|s|es)?',
    'hindu(s)?',
    'pratiquant(e|s|es)?',
    'croyant(e|s|es)?',
    'religieu(x|se|ses)',
    'religious',
    'religion(s)?',
    'ramadan',
    'casher|kasher|kosher',
    'halal',
    'shabbat|sabbat',
    'franc(-| )macon(ne|s|nes)?',
    'freemason(s)?',
  ],
  'ethnic-origin': [
    'origine (ethnique|africaine|maghrebine|arabe|asiatique|roms?)',
    'ethni(e|es|que|ques|c|city)',
    'noir(e|s|es)? de peau',
    'black (man|woman|guy|lady)',
    'maghrebin(e|s|es)?',
    'roms',
    'gitan(e|s|es)?',
    'tsigane(s)?',
    'gypsy|gypsies',
    'racial(e|es)?',
    'metis(se|ses)?',
    'immigre(e|s|es)?',
    'immigrant(s)?',
    'sans[- ]papiers',
  ],
  'political-opinion': [
    'communiste(s)?',
    'communist(s)?',
    'socialiste(s)?',
    'socialist(s)?',
    'ecologiste(s)?',
    'extreme (droite|gauche)',
    'far[- ](right|left)',
    'militant(e|s|es)? (politique|politiques|du|de la|des)',
    'political (activist|views|opinions?)',
    'opinion(s)? politique(s)?',
    'vote(s|nt)? (pour|a gauche|a droite|rn|lfi|fn)',
    'votes? for',
    'republican(s)?',
    'democrat(s)?',
    'encarte(e|s|es)? (au|a la|chez)',
    'front national',
    'rassemblement national',
    'anarchiste(s)?',
    'anarchist(s)?',
  ],
  'union-membership': [
    'syndiqu(e|ee|es|ees)',
    'syndicaliste(s)?',
    'syndicat(s)?',
    'delegue(e|s|es)? syndica(l|le|ux|les)',
    'cgt',
    'cfdt',
    'force ouvriere',
    'trade union(s)?',
    'union member(s|ship)?',
    'unionised|unionized',
    'shop steward(s)?',
  ],
  'sexual-life-or-orientation': [
    'homosexuel(le|s|les)?',
    'homosexual(s|ity)?',
    'heterosexuel(le|s|les)?',
    'bisexuel(le|s|les)?',
    'bisexual(s)?',
    'lesbienne(s)?',
    'lesbian(s)?',
    'gay(s)?',
    'transgen(re|res|der)',
    'trans(sexuel|sexuelle|sexual)',
    'libertin(e|s|es)?',
    'vie sexuelle',
    'sex life',
    'orientation sexuelle',
    'sexual orientation',
    'amant',
    'mistress',
  ],
  'genetic-or-biometric': [
    'genetique(s)?',
    'genetic(s)?',
    'adn',
    'dna',
    'empreinte(s)? digitale(s)?',
    'fingerprint(s)?',
    'biometri(que|ques|c|cs)',
    'reconnaissance faciale',
    'facial recognition',
    'iris scan',
    'genome',
  ],
  'criminal-record': [
    'casier judiciaire',
    'criminal record(s)?',
    'condamne(e|s|es)?',
    'convicted',
    'conviction(s)?',
    'prison',
    'incarcere(e|s|es)?',
    'jailed',
    'delinquant(e|s|es)?',
    'voleur|voleuse|voleurs|voleuses',
    'thief|thieves',
    'fraudeur|fraudeuse|fraudeurs|fraudeuses',
    'garde a vue',
    'arrested',
    'interpelle(e|s|es)? par la police',
    'sorti(e|s|es)? de prison',
    'casseur(s)?',
  ],
  'judgemental-or-offensive': [
    'desagreable(s)?',
    'unpleasant',
    'agressi(f|ve|fs|ves)',
    'aggressive',
    'impoli(e|s|es)?',
    'rude',
    'radin(e|s|es)?',
    'stingy',
    'idiot(e|s|es)?',
    'stupide(s)?',
    'stupid',
    'imbecile(s)?',
    'con(ne|nasse|nard)',
    'debile(s)?',
    'hysterique(s)?',
    'hysterical',
    'crazy',
    'insupportable(s)?',
    'unbearable',
    'penible(s)?',
    'annoying',
    'chiant(e|s|es)?',
    'moche(s)?',
    'ugly',
    'gros(se|ses)? (dame|monsieur|type|bonhomme)',
    'fat',
    'obese(s)?',
    'menteu(r|se|rs|ses)',
    'liar(s)?',
    'escroc(s)?',
    'crook(s)?',
    'pervers(e|es)?',
    'creep(y)?',
    'mauvais(e)? client(e)?',
    'client(e)? difficile',
    'difficult (customer|client|person)',
    'pain in the',
    'lazy',
    'paresseu(x|se|ses)',
    'bizarre(s)?',
    'weird(o)?',
    'vieux con',
    'emmerdeu(r|se|rs|ses)',
    'casse[- ]pieds',
    'grincheu(x|se|ses)',
    'grumpy',
  ],
};

/** Lower case, accents removed (é → e, œ → oe): the lexicon and the text compare folded. */
export const foldText = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .toLowerCase();

/**
 * Names that contain a listed word without saying anything about a person: a street, a venue, a
 * work or an event. Their span is blanked before matching.
 */
const NOT_ABOUT_A_PERSON = [
  /\b(rue|avenue|boulevard|place|quai|impasse|allee|chemin|route) (de la |du |des |de l')?[a-z'-]+( [a-z'-]+)?/g,
  new RegExp(
    '\\b(festival|fete|salon|nuit|semaine|journee|concert|eglise|cathedrale|temple|synagogue|mosquee|musee|' +
      "theatre|opera)( de la| du| des| de l'| of the| of)? [a-z'-]+( [a-z'-]+)?",
    'g',
  ),
];

const PATTERNS = Object.entries(LEXICON).map(([category, words]) => ({
  category: category as TextGuardCategory,
  pattern: new RegExp(`(?<![a-z0-9])(${words.map((w) => w.trim()).join('|')})(?![a-z0-9])`, 'g'),
}));

/** The warnings for a free text: each category it touches, with the words that touched it. */
export function guardText(text: string): TextWarning[] {
  // The words quoted are the words written: the folded copy keeps every character's place.
  const chars = [...text];
  // One folded UTF-16 unit per code point, so that a match's index is a code point's index too
  // (ASCII, most of any text, needs lower case only).
  const folded = chars
    .map((char) => (char < '\u0080' ? char.toLowerCase() : (foldText(char)[0] ?? ' ')))
    .map((c) => (c >= '\ud800' ? ' ' : c))
    .join('');
  let searched = folded;
  for (const names of NOT_ABOUT_A_PERSON) searched = searched.replace(names, (span) => ' '.repeat(span.length));
  const warnings: TextWarning[] = [];
  for (const { category, pattern } of PATTERNS) {
    const words = [...searched.matchAll(pattern)].map((match) =>
      chars
        .slice(match.index, match.index + match[0].length)
        .join('')
        .trim(),
    );
    if (words.length > 0) {
      warnings.push({
        category,
        words: [...new Set(words)],
        advice: category === 'judgemental-or-offensive' ? JUDGEMENT_ADVICE : SPECIAL_CATEGORY_ADVICE,
      });
    }
  }
  return warnings;
}
