/**
 * The free-text guard (ticketing-gdpr-features-v1.fr.txt, "Remark recommendations"): a note or a
 * remark must not reveal special-category data (GDPR art. 9 and 10; addictions count as health,
 * a national origin as an ethnic one) nor judge or offend the person. Words are matched in French
 * and English on the text folded to lower case without accents, with their plural and feminine
 * forms; a name of a place or of an event that merely contains a word ("Rue de la Santé",
 * "festival de la foi", "opéra") is not a match.
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

/**
 * The reference page's "Remark recommendations" (ticketing-gdpr-features-v1.fr.txt), shown with
 * every note and remark: English word for word as the page holds them, and in French (ours).
 * The advice of a warning quotes the points it breaks.
 */
export const REMARK_RECOMMENDATIONS = {
  en: {
    title: 'Remark recommendations',
    intro:
      'Data entered in the comments area must comply with all relevant personal data regulations. ' +
      'In particular it must:',
    points: [
      'Be relevant, adequate, not excessive and strictly relevant to the purpose for which they have been ' +
        'collected and processed;',
      'Be objective: not value judgements or opinions relating to the behaviour of the parties concerned; ' +
        '(to that end, you are advised to add strictly factual comments in finite sentences, avoiding the use ' +
        'of qualifiers).',
      'Avoid directly or indirectly revealing personal data such as racial or ethnic origins, political, ' +
        'philosophical or religious opinions, union affiliations; also avoid revealing data relating to ' +
        'genetic, biometric, health, sexual proclivity, or habits, criminal record or related security ' +
        'infringements.',
      'Avoid any expression which might be deemed offensive, derogatory, pejorative or detrimental to a ' +
        "person's reputation or infringe their personal privacy.",
    ],
  },
  fr: {
    title: 'Recommandations pour les remarques',
    intro:
      'Les données saisies dans la zone de commentaires doivent respecter toute la réglementation ' +
      'applicable aux données personnelles. En particulier, elles doivent :',
    points: [
      'être pertinentes, adéquates, non excessives et strictement nécessaires à la finalité pour laquelle ' +
        'elles sont collectées et traitées ;',
      'être objectives : pas de jugements de valeur ni d’opinions sur le comportement des personnes ' +
        'concernées (pour cela, il est conseillé de saisir des commentaires strictement factuels, en phrases ' +
        'complètes, sans qualificatifs) ;',
      'éviter de révéler directement ou indirectement des données personnelles telles que les origines ' +
        'raciales ou ethniques, les opinions politiques, philosophiques ou religieuses, l’appartenance ' +
        'syndicale ; éviter aussi de révéler des données relatives à la génétique, à la biométrie, à la ' +
        'santé, à la vie ou aux habitudes sexuelles, au casier judiciaire ou aux infractions liées à la ' +
        'sécurité ;',
      'éviter toute expression pouvant être jugée offensante, désobligeante, péjorative ou préjudiciable à ' +
        'la réputation d’une personne, ou portant atteinte à sa vie privée.',
    ],
  },
} as const;
export type RemarkRecommendations = typeof REMARK_RECOMMENDATIONS;

const [, OBJECTIVE, SPECIAL_CATEGORIES, NOT_OFFENSIVE] = REMARK_RECOMMENDATIONS.en.points;
const SPECIAL_CATEGORY_ADVICE = SPECIAL_CATEGORIES;
const JUDGEMENT_ADVICE = `${OBJECTIVE} ${NOT_OFFENSIVE}`;

/**
 * National or ethnic origin: a nationality or an origin is said of a person only in some turns of
 * phrase, since the same adjective names a cuisine, a music or a company ("soirée marocaine",
 * "ballet russe", "Spanish guitar night") and a country names a tour or a street ("Place
 * d'Italie"). So an adjective counts after "origine", "nationalité" or a word for a person ("cliente
 * marocaine", "il est algérien"), before one in English ("Moroccan family", "of Turkish descent"),
 * or alone at the head of a note ("Marocaine, parle peu français"); a country counts after
 * "originaire de", "né au", "born in" or "from". Folded (no accents); French with the feminine and
 * plural forms.
 */
const ORIGIN_ADJECTIVES_FR = [
  'marocain(e|s|es)?',
  'algerien(ne|s|nes)?',
  'tunisien(ne|s|nes)?',
  'maghrebin(e|s|es)?',
  'africain(e|s|es)?',
  'senegalais(e|es)?',
  'malien(ne|s|nes)?',
  'ivoirien(ne|s|nes)?',
  'camerounais(e|es)?',
  'congolais(e|es)?',
  'comorien(ne|s|nes)?',
  'guineen(ne|s|nes)?',
  'turc|turque|turcs|turques',
  'arabe(s)?',
  'asiatique(s)?',
  'chinois(e|es)?',
  'vietnamien(ne|s|nes)?',
  'cambodgien(ne|s|nes)?',
  'japonais(e|es)?',
  'coreen(ne|s|nes)?',
  'indien(ne|s|nes)?',
  'pakistanais(e|es)?',
  'portugais(e|es)?',
  'espagnol(e|s|es)?',
  'italien(ne|s|nes)?',
  'polonais(e|es)?',
  'roumain(e|s|es)?',
  'russe(s)?',
  'ukrainien(ne|s|nes)?',
  'armenien(ne|s|nes)?',
  'albanais(e|es)?',
  'serbe(s)?',
  'libanais(e|es)?',
  'syrien(ne|s|nes)?',
  'iranien(ne|s|nes)?',
  'irakien(ne|s|nes)?',
  'afghan(e|s|es)?',
  'kurde(s)?',
  'tchetchene(s)?',
  'israelien(ne|s|nes)?',
  'palestinien(ne|s|nes)?',
  'antillais(e|es)?',
  'haitien(ne|s|nes)?',
  'bresilien(ne|s|nes)?',
  'colombien(ne|s|nes)?',
  'mexicain(e|s|es)?',
  'latino(s|a|as)?',
  'americain(e|s|es)?',
  'anglais(e|es)?',
  'britannique(s)?',
  'allemand(e|s|es)?',
  'belge(s)?',
  'suisse(s)?',
  'irlandais(e|es)?',
  'hollandais(e|es)?',
  'grec|grecque|grecs|grecques',
  'francais(e|es)?',
  'europeen(ne|s|nes)?',
  'etranger(e|s|es)?',
  'immigree?s?',
  'noir(e|s|es)?',
].join('|');
const ORIGIN_ADJECTIVES_EN = [
  'moroccan|algerian|tunisian|north african|african|nigerian|senegalese|somali|ethiopian|congolese|ghanaian',
  'turkish|arab|asian|chinese|vietnamese|japanese|korean|indian|pakistani|bangladeshi|filipino',
  'portuguese|spanish|italian|polish|romanian|russian|ukrainian|armenian|albanian|serbian',
  'lebanese|syrian|iranian|iraqi|afghan|kurdish|israeli|palestinian',
  'caribbean|jamaican|haitian|brazilian|colombian|mexican|latino|latina|hispanic',
  'american|british|german|belgian|swiss|irish|dutch|greek|french|european|foreign',
].join('|');
const COUNTRIES = [
  'maroc|algerie|tunisie|senegal|mali|cote d.ivoire|cameroun|congo|nigeria|turquie|chine|vietnam|japon',
  'coree|inde|pakistan|portugal|espagne|italie|pologne|roumanie|russie|ukraine|armenie|liban|syrie|iran|irak',
  'afghanistan|israel|palestine|antilles|guadeloupe|martinique|haiti|bresil|colombie|mexique',
  'morocco|algeria|tunisia|ivory coast|cameroon|turkey|china|japan|korea|india|spain|italy|poland|romania',
  'russia|lebanon|syria|iraq|jamaica|brazil|colombia|mexico',
].join('|');
const PERSON_FR =
  'client(e|s|es)?|homme(s)?|femme(s)?|dame(s)?|monsieur|madame|famille(s)?|personne(s)?|couple|' +
  'enfant(s)?|garcon(s)?|fille(s)?|jeune(s)?|spectat(eur|rice|eurs|rices)|abonne(e|s|es)?|mari|epouse|' +
  'il est|elle est|ils sont|elles sont';
const PERSON_EN =
  'man|men|woman|women|lady|ladies|guy|guys|family|families|customer(s)?|client(s)?|couple|person|people|' +
  'gentleman|gentlemen|boy(s)?|girl(s)?|kid(s)?|child|children|national(s)?|nationality|immigrant(s)?|' +
  'origin|descent|background|heritage|ancestry';
const ORIGIN_PATTERNS = [
  `origine(s)? (${ORIGIN_ADJECTIVES_FR}|ethnique(s)?|roms?)`,
  `nationalite(s)? (${ORIGIN_ADJECTIVES_FR})`,
  `(${PERSON_FR}) (${ORIGIN_ADJECTIVES_FR})`,
  `(${ORIGIN_ADJECTIVES_EN}) (${PERSON_EN})`,
  // "French-speaking" says a language, not an origin.
  `(he|she|they) (is|are|was|were|'s|’s) (${ORIGIN_ADJECTIVES_EN})(?!-)`,
  // Alone at the head of the note or of a sentence, before a comma: the note calls the person so.
  `(?<=(^|[.;!?\\n] ?))(${ORIGIN_ADJECTIVES_FR}|${ORIGIN_ADJECTIVES_EN})(?= ?,)`,
  `(originaire|native|originally|comes|come|is|are) (du|de la|de l'|de l’|des|de|d'|d’|from|of) (${COUNTRIES})`,
  `(ne|nee|nes|nees) (au|aux|en|a) (${COUNTRIES})`,
  `born in (${COUNTRIES})`,
];

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
    // Addictions (a health condition, and a habit the recommendations name).
    'alcooli(que|ques|sme)',
    'alcoolo(s)?',
    'alcoholi(c|cs|sm)',
    'ivrogne(s)?',
    'drunkard(s)?',
    'toxico(s|mane|manes|manie)?',
    'drogue(e|s|es)?',
    'heroinomane(s)?',
    'cocainomane(s)?',
    'addiction(s)?',
    'drug (addict|addicts|addiction|user|users|abuse)',
    'substance abuse',
    'junkie(s)?',
    'addicted to (drugs|alcohol|gambling|heroin|cocaine)',
    'desintox(ication)?',
    'rehab',
    'sevrage',
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
    ...ORIGIN_PATTERNS,
    'ethni(e|es|que|ques|c|city)',
    'noir(e|s|es)? de peau',
    'black (man|woman|guy|lady)',
    'maghrebin(e|s|es)?',
    'gens du voyage',
    'manouche(s)?',
    'beur(ette|ettes|s)?|rebeu(s)?|renoi(s)?',
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

// Groups made non-capturing (only the whole match is read): a tenth faster on a note.
const nonCapturing = (word: string) => word.trim().replace(/\((?!\?)/g, '(?:');
const PATTERNS = Object.entries(LEXICON).map(([category, words]) => ({
  category: category as TextGuardCategory,
  pattern: new RegExp(`(?<![a-z0-9])(?:${words.map(nonCapturing).join('|')})(?![a-z0-9])`, 'g'),
}));

/**
 * What a reader does not see between letters: combining marks (an accent typed apart from its
 * letter, which folding drops anyway) and format characters (a soft hyphen, a zero-width space or
 * joiner). Left out of the searched copy, so that they cannot split a word out of sight.
 */
const UNSEEN = /^[\p{Mn}\p{Cf}]$/u;

/** The warnings for a free text: each category it touches, with the words that touched it. */
export function guardText(text: string): TextWarning[] {
  // The words quoted are the words written: each searched unit keeps its code point's place.
  const chars = [...text];
  const places: number[] = [];
  let folded = '';
  chars.forEach((char, place) => {
    if (UNSEEN.test(char)) return;
    places.push(place);
    // One folded UTF-16 unit per code point (ASCII, most of any text, needs lower case only).
    const unit = char < '\u0080' ? char.toLowerCase() : (foldText(char)[0] ?? ' ');
    folded += unit >= '\ud800' ? ' ' : unit;
  });
  let searched = folded;
  for (const names of NOT_ABOUT_A_PERSON) searched = searched.replace(names, (span) => ' '.repeat(span.length));
  const warnings: TextWarning[] = [];
  for (const { category, pattern } of PATTERNS) {
    const words = [...searched.matchAll(pattern)].map((match) =>
      chars
        .slice(places[match.index], places[match.index + match[0].length - 1]! + 1)
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
