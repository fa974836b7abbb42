import { render } from 'preact-render-to-string';
import { NoticePage, type NoticeProps } from './pages/notice-page.js';
import { PrivacyPage, type PrivacyPageProps } from './pages/privacy-page.js';

/** The pages as the HTML documents the server sends: rendered once, never hydrated (no script at all). */
export const renderPrivacyPage = (props: PrivacyPageProps) => `<!doctype html>${render(<PrivacyPage {...props} />)}`;
export const renderNoticePage = (props: NoticeProps) => `<!doctype html>${render(<NoticePage {...props} />)}`;
