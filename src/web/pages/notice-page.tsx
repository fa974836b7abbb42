import type { Language, Messages } from '../messages/index.js';
import { Layout } from './layout.js';

export interface NoticeProps {
  language: Language;
  messages: Messages;
  title: string;
  text: string;
}

/** A page that says only what happened (an unknown or dead link, a refused form): nothing about anyone. */
export function NoticePage({ language, messages, title, text }: NoticeProps) {
  return (
    <Layout language={language} messages={messages} title={title}>
      <h1>{title}</h1>
      <p class="lead">{text}</p>
    </Layout>
  );
}
