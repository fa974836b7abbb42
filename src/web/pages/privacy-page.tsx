import type { PrivacyPage as PageData } from '../../app/privacy-center.js';
import { countryName, formatDate } from '../components/dates.js';
import { Banner, ErrorSummary, titleWithErrors, type FormError } from '../components/feedback.js';
import type { Language, Messages } from '../messages/index.js';
import { Layout, type FrameProps } from './layout.js';

type Purpose = PageData['purposes'][number];

/** What the page confirms after a redirect: the answer, the correction or the request just recorded. */
export type Done =
  { kind: 'given' | 'withdrawn'; purpose: string } | { kind: 'details' | 'unchanged' } | { kind: 'erasure' };

export interface PrivacyPageProps extends FrameProps {
  /** The link's token: the forms post back to its path. */
  token: string;
  /** The anti-forgery token every form carries (bound to the link). */
  formToken: string;
  page: PageData;
  done?: Done | undefined;
  /** The purpose a campaign's link asks to renew (`?renew=`): asked first, one button. */
  renew?: string | undefined;
  /** What is wrong with the form just posted, each linked to the purpose it concerns (GOV.UK error summary). */
  errors?: FormError[] | undefined;
}

/** What a section of what is held needs: the page's data, in the person's language. */
type SectionProps = Pick<PrivacyPageProps, 'language' | 'messages' | 'token' | 'page'>;

/** A purpose's wording in the page's language, else in the other one (null: none configured). */
const labelOf = ({ labels }: Purpose, language: Language) => labels?.[language] ?? labels?.[otherOf(language)] ?? null;
const otherOf = (language: Language): Language => (language === 'fr' ? 'en' : 'fr');
/** The language of a purpose's wording when it is not the page's (its `lang`, WCAG 3.1.2), else undefined. */
const wordingLanguageOf = ({ labels }: Purpose, language: Language) =>
  !labels?.[language] && labels?.[otherOf(language)] ? otherOf(language) : undefined;
/** A purpose's name for the person: its label's, else its code. */
export const nameOf = (purpose: Purpose, language: Language) => labelOf(purpose, language)?.name ?? purpose.code;
export const anchorOf = (code: string) => `purpose-${code}`;
/** A path of the person's pages, in the language they chose. */
export const pathOf = (token: string, language: Language, page = '') => `/privacy/${token}${page}?lang=${language}`;

/**
 * The privacy center's page: the person's consents, each purpose on its own with its current
 * answer, when and how it was given, and one form whose buttons give or withdraw it (nothing
 * ticked in advance: one purpose per POST); a legal basis is information, with the right to
 * object. Then what is held: their details (and a link to correct them), their orders, when they
 * would be forgotten; the downloads; and erasure, asked for on a page of its own, then followed.
 */
export function PrivacyPage(props: PrivacyPageProps) {
  const { language, messages, page, done, renew, errors = [] } = props;
  const consents = page.purposes.filter((p) => p.kind !== 'legalBasis');
  const legalBases = page.purposes.filter((p) => p.kind === 'legalBasis');
  // Asked whatever the answer now: a "yes" renewed is an activity that prolongs it (consent expiry).
  const renewed = consents.find((p) => p.code === renew);
  return (
    <Layout {...props} title={titleWithErrors(messages, messages.title, errors)}>
      <ErrorSummary messages={messages} errors={errors} />
      <Banner messages={messages} text={done && doneText(messages, page, language, done)} />
      {renewed && <RenewPanel {...props} purpose={renewed} />}
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
      <DetailsSection {...props} />
      <OrdersSection {...props} />
      <h2>{messages.retention.heading}</h2>
      <p>
        {page.inactivity === null
          ? messages.retention.whileInTouch
          : page.inactivity.passed
            ? messages.retention.inactiveSoon(page.inactivity.outcome)
            : messages.retention.inactiveAfter(formatDate(language, page.inactivity.date), page.inactivity.outcome)}
      </p>
      <h2>{messages.download.heading}</h2>
      <p>{messages.download.text}</p>
      <ul class="list">
        <li>
          <a href={pathOf(props.token, language, '/export.json')} download>
            {messages.download.json}
          </a>
        </li>
        <li>
          <a href={pathOf(props.token, language, '/print')}>{messages.download.print}</a>
        </li>
      </ul>
      <ErasureSection {...props} />
    </Layout>
  );
}

function doneText(messages: Messages, page: PageData, language: Language, done: Done): string | undefined {
  switch (done.kind) {
    case 'given':
    case 'withdrawn': {
      const purpose = page.purposes.find((p) => p.code === done.purpose);
      if (!purpose) return undefined;
      return messages[done.kind](nameOf(purpose, language));
    }
    case 'details':
      return messages.details.saved;
    case 'unchanged':
      return messages.details.unchanged;
    case 'erasure':
      return page.erasure ? messages.erasure.requested(formatDate(language, page.erasure.dueAt)) : undefined;
  }
}

/** The question a campaign's "keep me informed" link leads to: a click on its one button gives the consent. */
function RenewPanel(props: PrivacyPageProps & { purpose: Purpose }) {
  const { language, messages, purpose } = props;
  const name = nameOf(purpose, language);
  return (
    <section class="panel" aria-labelledby="renew-title">
      <h2 id="renew-title">{messages.renew.title(name)}</h2>
      <p>{messages.renew.text}</p>
      <AnswerForm {...props} answers={['yes']} label={() => messages.renew.button} />
    </section>
  );
}

function PurposeCard(props: PrivacyPageProps & { purpose: Purpose }) {
  const { language, messages, purpose } = props;
  const legalBasis = purpose.kind === 'legalBasis';
  const name = nameOf(purpose, language);
  const description = labelOf(purpose, language)?.description;
  const wording = wordingLanguageOf(purpose, language);
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
  const through = messages.givenThrough[purpose.source as keyof Messages['givenThrough']];
  const id = anchorOf(purpose.code);
  return (
    <section class={`purpose purpose-${status}`} id={id} aria-labelledby={`${id}-name`}>
      <h3 id={`${id}-name`} lang={wording}>
        {name}
      </h3>
      {description && (
        <p class="hint" lang={wording}>
          {description}
        </p>
      )}
      <p class="hint">{channel}</p>
      <p class="status">
        <strong>{said}</strong>
        {purpose.changedAt && ` ${messages.changedOn(formatDate(language, purpose.changedAt))}`}
        {purpose.changedAt && through && ` ${through}`}
      </p>
      {answers.length > 0 && (
        <AnswerForm
          {...props}
          answers={answers}
          label={(answer) => (answer === 'yes' ? messages.give : legalBasis ? messages.object : messages.withdraw)}
        />
      )}
    </section>
  );
}

/** One purpose's form: a button per answer, the purpose said to screen readers after each button's text. */
function AnswerForm(
  props: PrivacyPageProps & { purpose: Purpose; answers: Array<'yes' | 'no'>; label: (answer: 'yes' | 'no') => string },
) {
  const { language, messages, token, formToken, purpose, answers, label } = props;
  return (
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
            {label(answer)}
            <span class="visually-hidden">{messages.forPurpose(nameOf(purpose, language))}</span>
          </button>
        ))}
      </div>
    </form>
  );
}

export function DetailsSection({ language, messages, token, page: { details } }: SectionProps) {
  const { fields, notGiven } = messages.details;
  const address = details.address;
  const place = address && [address.postcode, address.town].filter(Boolean).join(' ');
  const addressLines = address
    ? [address.street, address.line2, place, address.country && countryName(language, address.country)]
    : [];
  const shown = (value: string | undefined) => value || <span class="hint">{notGiven}</span>;
  return (
    <>
      <h2>{messages.details.heading}</h2>
      <dl class="summary">
        <div>
          <dt>{fields.firstName}</dt>
          <dd>{shown(details.firstName)}</dd>
        </div>
        <div>
          <dt>{fields.lastName}</dt>
          <dd>{shown(details.lastName)}</dd>
        </div>
        <div>
          <dt>{fields.email}</dt>
          <dd>{shown(details.email)}</dd>
        </div>
        <div>
          <dt>{fields.phone}</dt>
          <dd>{shown(details.phone)}</dd>
        </div>
        <div>
          <dt>{messages.details.addressLegend}</dt>
          <dd>
            {addressLines.some(Boolean)
              ? addressLines.filter(Boolean).map((line) => <div>{line}</div>)
              : shown(undefined)}
          </dd>
        </div>
      </dl>
      <p class="no-print">
        <a href={pathOf(token, language, '/details')}>{messages.details.correct}</a>
      </p>
    </>
  );
}

export function OrdersSection({ language, messages, page: { orders } }: SectionProps) {
  const { orders: texts } = messages;
  const date = (instant: string) => formatDate(language, instant);
  return (
    <>
      <h2>{texts.heading}</h2>
      {orders.length === 0 && <p>{texts.none}</p>}
      {orders.map((order) => (
        <section class="order" aria-labelledby={`order-${order.orderId}`}>
          <h3 id={`order-${order.orderId}`}>{texts.order(order.orderId)}</h3>
          <p class="hint">{texts.placedOn(date(order.placedAt))}</p>
          <ul class="list">
            {order.tickets.map((ticket) => (
              <li>
                {ticket.productId ? texts.product(ticket.productId) : texts.anyProduct}
                {' – '}
                {texts.state[ticket.state]}
                {', '}
                {ticket.validUntil
                  ? ticket.validFrom
                    ? texts.validFromUntil(date(ticket.validFrom), date(ticket.validUntil))
                    : texts.validUntil(date(ticket.validUntil))
                  : texts.undated}
              </li>
            ))}
          </ul>
          {order.purged && <p class="hint">{texts.purged}</p>}
        </section>
      ))}
    </>
  );
}

function ErasureSection({ language, messages, token, page: { erasure } }: PrivacyPageProps) {
  const { erasure: texts } = messages;
  const date = (instant: string) => formatDate(language, instant);
  const open = erasure && (erasure.status === 'pending' || erasure.status === 'overdue');
  return (
    <section id="erasure" aria-labelledby="erasure-title">
      <h2 id="erasure-title">{texts.heading}</h2>
      {erasure?.status === 'pending' && <p>{texts.status.pending(date(erasure.requestedAt), date(erasure.dueAt))}</p>}
      {erasure?.status === 'overdue' && <p>{texts.status.overdue(date(erasure.requestedAt), date(erasure.dueAt))}</p>}
      {erasure?.status === 'refused' && (
        <p>
          {texts.status.refused(date(erasure.requestedAt))}{' '}
          {texts.reasons[erasure.refusedBecause as keyof Messages['erasure']['reasons']] ??
            texts.otherReason(erasure.refusedBecause ?? '')}
        </p>
      )}
      {!open && (
        <>
          <p>{texts.intro}</p>
          <p>
            <a class="button button-warning" href={pathOf(token, language, '/erasure')}>
              {texts.ask}
            </a>
          </p>
        </>
      )}
    </section>
  );
}
