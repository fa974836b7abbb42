import type { Messages } from '../messages/index.js';

/** A mistake in what was just posted, linked to the field or section it concerns. */
export interface FormError {
  href: string;
  text: string;
}

/** The GOV.UK error summary: at the top, announced, each error a link to where it is. */
export function ErrorSummary({ messages, errors }: { messages: Messages; errors: readonly FormError[] }) {
  if (errors.length === 0) return null;
  return (
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
  );
}

/** What was just recorded, shown once after the redirect (post-redirect-get). */
export function Banner({ messages, text }: { messages: Messages; text: string | undefined }) {
  if (text === undefined) return null;
  return (
    <div class="banner" role="status" aria-labelledby="banner-title">
      <h2 id="banner-title">{messages.bannerTitle}</h2>
      <p>{text}</p>
    </div>
  );
}

/** A page's title: an error first, so that a screen reader hears it before anything else. */
export const titleWithErrors = (messages: Messages, title: string, errors: readonly FormError[]) =>
  errors.length > 0 ? `${messages.errorSummaryTitle} – ${title}` : title;
