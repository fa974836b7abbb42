import type { ComponentChildren } from 'preact';
import type { Institution } from '../../site-config.js';
import type { Language, Messages } from '../messages/index.js';

/** Where the page's one stylesheet is served (src/web/assets, by express.static). */
export const STYLESHEET = '/assets/privacy-center.css';

/** What every page of the person is framed with. */
export interface FrameProps {
  language: Language;
  messages: Messages;
  institution: Institution;
  /** The same page in the other language (the switch), when there is one to offer. */
  switchTo?: { language: Language; href: string; label: string } | undefined;
}

/** The frame of every page of the person: no script, one stylesheet, the language switch at the top. */
export function Layout(props: FrameProps & { title: string; children: ComponentChildren }) {
  const { language, messages, institution, switchTo, title, children } = props;
  return (
    <html lang={language}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{institution.name ? `${title} – ${institution.name}` : title}</title>
        <link rel="stylesheet" href={STYLESHEET} />
      </head>
      <body>
        <header class="header">
          <div class="width">
            <span class="header-title">{institution.name ?? messages.serviceName}</span>
            {switchTo && (
              <a class="language-switch" href={switchTo.href} hreflang={switchTo.language} lang={switchTo.language}>
                {switchTo.label}
              </a>
            )}
          </div>
        </header>
        <main class="width main" id="main">
          {children}
        </main>
        {institution.privacyPolicyUrl && (
          <footer class="footer">
            <div class="width">
              <a href={institution.privacyPolicyUrl} rel="noreferrer">
                {messages.privacyPolicy}
              </a>
            </div>
          </footer>
        )}
      </body>
    </html>
  );
}
