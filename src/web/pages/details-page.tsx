import { ErrorSummary, titleWithErrors, type FormError } from '../components/feedback.js';
import type { AddressTexts, DetailTexts } from '../messages/index.js';
import { Layout, type FrameProps } from './layout.js';
import { pathOf } from './privacy-page.js';

/** The form's fields, in order, with the browser's autofill purpose of each (WCAG 1.3.5). */
export const DETAIL_INPUTS = [
  { name: 'firstName', autocomplete: 'given-name', type: 'text' },
  { name: 'lastName', autocomplete: 'family-name', type: 'text' },
  { name: 'email', autocomplete: 'email', type: 'email' },
  { name: 'phone', autocomplete: 'tel', type: 'tel' },
] as const;
export const ADDRESS_INPUTS = [
  { name: 'street', autocomplete: 'address-line1' },
  { name: 'line2', autocomplete: 'address-line2' },
  { name: 'postcode', autocomplete: 'postal-code' },
  { name: 'town', autocomplete: 'address-level2' },
  { name: 'country', autocomplete: 'country' },
] as const;
export type FieldName = keyof DetailTexts | keyof AddressTexts;
type InputType = 'text' | 'email' | 'tel';

export interface DetailsPageProps extends FrameProps {
  token: string;
  formToken: string;
  /** What the fields show: what is held, or what was just posted when it is refused. */
  values: Partial<Record<FieldName, string>>;
  /** The fields the ledger refused, each said in words. */
  fieldErrors?: Partial<Record<FieldName, string>> | undefined;
  /** A refusal of the form as a whole (no one field), in words. */
  formError?: string | undefined;
}

/** The correction of the person's details: one form, prefilled, each field labelled, refused ones said beside them. */
export function DetailsPage(props: DetailsPageProps) {
  const { language, messages, token, formToken, values, fieldErrors = {}, formError } = props;
  const { details } = messages;
  const errors: FormError[] = [
    ...Object.entries(fieldErrors).map(([field, text]) => ({ href: `#${field}`, text })),
    ...(formError ? [{ href: '#details-form', text: formError }] : []),
  ];
  const field = (name: FieldName, label: string, autocomplete: string, type: InputType = 'text', hint?: string) => {
    const error = fieldErrors[name];
    const describedBy = [hint && `${name}-hint`, error && `${name}-error`].filter(Boolean).join(' ');
    return (
      <div class={error ? 'form-group form-group-error' : 'form-group'}>
        <label class="label" for={name}>
          {label}
        </label>
        {hint && (
          <p class="hint" id={`${name}-hint`}>
            {hint}
          </p>
        )}
        {error && (
          <p class="error-message" id={`${name}-error`}>
            <span class="visually-hidden">{messages.errorSummaryTitle}: </span>
            {error}
          </p>
        )}
        <input
          class={error ? 'input input-error' : 'input'}
          id={name}
          name={name}
          type={type}
          // Preact types an input by its type: a union of them needs `list`, which a text input ignores.
          list={undefined}
          value={values[name] ?? ''}
          autocomplete={autocomplete}
          spellcheck={false}
          aria-describedby={describedBy || undefined}
          aria-invalid={error ? 'true' : undefined}
        />
      </div>
    );
  };
  return (
    <Layout {...props} title={titleWithErrors(messages, details.title, errors)}>
      <ErrorSummary messages={messages} errors={errors} />
      <h1>{details.title}</h1>
      <p class="hint">{details.hint}</p>
      <form id="details-form" method="post" action={`/privacy/${token}/details`} novalidate>
        <input type="hidden" name="csrf" value={formToken} />
        <input type="hidden" name="lang" value={language} />
        {DETAIL_INPUTS.map(({ name, autocomplete, type }) => field(name, details.fields[name], autocomplete, type))}
        <fieldset class="fieldset">
          <legend class="legend">{details.addressLegend}</legend>
          {ADDRESS_INPUTS.map(({ name, autocomplete }) =>
            field(
              name,
              details.address[name],
              autocomplete,
              'text',
              name === 'country' ? details.countryHint : undefined,
            ),
          )}
        </fieldset>
        <div class="button-group">
          <button type="submit" class="button">
            {details.save}
          </button>
          <a class="link-button" href={pathOf(token, language)}>
            {details.back}
          </a>
        </div>
      </form>
    </Layout>
  );
}
