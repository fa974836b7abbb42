import type { ConsentPage } from '../../app/consent-links.js';
import type { Language, Messages } from '../messages/index.js';
import { Layout } from './layout.js';

type Purpose = ConsentPage['purposes'][number];

export interface PrivacyPageProps {
  language: Language;
  messages: Messages;
  /** The link's token: the forms post back to its path. */
  token: string;
  /** The anti-forgery token every form carries (bound to the link). */
  formToken: string;
  page: ConsentPage;
  /** What was just recorded, shown once after the redirect. */
  banner?: { answer: 'given' | 'withdrawn'; purpose: string } | undefined;
  /** What is wrong with the form just posted, each linked to the purpose it concerns (GOV.UK error summary). */
  errors?: Array<{ href: string; text: string }> | undefined;
  switchTo: { language: Language; href: string; label: string };
}

/** A purpose's wording in the page's language, else in the other one (null: none configured). */
const labelOf = ({ labels }: Purpose, language: Language) =>
  labels?.[language] ?? labels?.[language === 'fr' ? 'en' : 'fr'] ?? null;
/** A purpose's name for the person: its label's, else its code. */
const nameOf = (purpose: Purpose, language: Language) => labelOf(purpose, language)?.name ?? purpose.code;
export const anchorOf = (code: string) => `purpose-${code}`;

export function formatDate(language: Language, instant: string): string {
  const locale = language === 'fr' ? 'fr-FR' : 'en-GB';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(instant));
}

/**
 * The privacy center's page: each purpose on its own, its current answer and when it was given,
 * and one form per purpose whose buttons give or withdraw it (nothing ticked in advance: the
 * person acts, one purpose per POST). A legal basis is information, with the right to object.
 */
export function PrivacyPage(props: PrivacyPageProps) {
  const { language, messages, page, banner, errors = [], switchTo } = props;
  const consents = page.purposes.filter((p) => p.kind !== 'legalBasis');
  const legalBases = page.purposes.filter((p) => p.kind === 'legalBasis');
  const title = errors.length > 0 ? `${messages.errorSummaryTitle} – ${messages.title}` : messages.title;
  return (
    <Layout language={language} messages={messages} title={title} switchTo={switchTo}>
      {errors.length > 0 && (
        <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1}>
          <h2 id="error-summary-title">{messages.errorSummaryTitle}</h2>
          <ul>
            {errors.map(({ href, text }) => (
              <li>
                <a href={href}>{text}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
      {banner && (
        <div class="banner" role="status" aria-labelledby="banner-title">
          <h2 id="banner-title">{messages.bannerTitle}</h2>
          <p>{banner.answer === 'given' ? messages.given(banner.purpose) : messages.withdrawn(banner.purpose)}</p>
        </div>
      )}
      <h1>{messages.title}</h1>
      <p class="lead">{messages.intro}</p>
      <p class="hint">{messages.linkValidUntil(formatDate(language, page.expiresAt))}</p>
      <h2>{messages.consentsHeading}</h2>
      <p class="hint">{messages.consentsHint}</p>
      {consents.length === 0 && <p>{messages.noPurposes}</p>}
      {consents.map((purpose) => (
        <PurposeCard {...props} purpose={purpose} />
      ))}
      {legalBases.length > 0 && (
        <>
          <h2>{messages.legalBasesHeading}</h2>
          <p class="hint">{messages.legalBasesHint}</p>
          {legalBases.map((purpose) => (
            <PurposeCard {...props} purpose={purpose} />
          ))}
        </>
      )}
    </Layout>
  );
}

function PurposeCard({ language, messages, token, formToken, purpose }: PrivacyPageProps & { purpose: Purpose }) {
  const legalBasis = purpose.kind === 'legalBasis';
  const name = nameOf(purpose, language);
  const description = labelOf(purpose, language)?.description;
  const status = purpose.status === 'yes' || purpose.status === 'no' ? purpose.status : 'unknown';
  const said = legalBasis
    ? status === 'no'
      ? messages.legalBasisStatus.objected
      : messages.legalBasisStatus.applies
    : messages.status[status];
  // The answers that would change something: a legal basis is only ever objected to.
  const answers: Array<'yes' | 'no'> = legalBasis
    ? status === 'no'
      ? []
      : ['no']
    : status === 'yes'
      ? ['no']
      : status === 'no'
        ? ['yes']
        : ['yes', 'no'];
  const channel = messages.channel[purpose.channel as keyof Messages['channel']] ?? purpose.channel;
  const id = anchorOf(purpose.code);
  return (
    <section class={`purpose purpose-${status}`} id={id} aria-labelledby={`${id}-name`}>
      <h3 id={`${id}-name`}>{name}</h3>
      {description && <p class="hint">{description}</p>}
      <p class="hint">{channel}</p>
      <p class="status">
        <strong>{said}</strong>
        {purpose.changedAt && ` ${messages.changedOn(formatDate(language, purpose.changedAt))}`}
      </p>
      {answers.length > 0 && (
        <form method="post" action={`/privacy/${token}/consents`}>
          <input type="hidden" name="csrf" value={formToken} />
          <input type="hidden" name="purpose" value={purpose.code} />
          <input type="hidden" name="lang" value={language} />
          <div class="button-group">
            {answers.map((answer) => (
              <button
                type="submit"
                name="answer"
                value={answer}
                class={answer === 'yes' ? 'button' : 'button button-secondary'}
              >
                {answer === 'yes' ? messages.give : legalBasis ? messages.object : messages.withdraw}
                <span class="visually-hidden">{messages.forPurpose(name)}</span>
              </button>
            ))}
          </div>
        </form>
      )}
    </section>
  );
}
