import type { ComponentChildren } from 'preact';
import type { Language, Messages } from '../messages/index.js';

/** Where the page's one stylesheet is served (src/web/assets, by express.static). */
export const STYLESHEET = '/assets/privacy-center.css';

export interface LayoutProps {
  language: Language;
  messages: Messages;
  title: string;
  /** The same page in the other language (the switch), when there is one to offer. */
  switchTo?: { language: Language; href: string; label: string };
  children: ComponentChildren;
}

/** The frame of every page of the person: no script, one stylesheet, the language switch at the top. */
export function Layout({ language, messages, title, switchTo, children }: LayoutProps) {
  return (
    <html lang={language}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{title}</title>
        <link rel="stylesheet" href={STYLESHEET} />
      </head>
      <body>
        <header class="header">
          <div class="width">
            <span class="header-title">{messages.serviceName}</span>
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
      </body>
    </html>
  );
}
