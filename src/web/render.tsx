import { render } from 'preact-render-to-string';
import { DetailsPage, type DetailsPageProps } from './pages/details-page.js';
import { ErasurePage, type ErasurePageProps } from './pages/erasure-page.js';
import { NoticePage, type NoticeProps } from './pages/notice-page.js';
import { PrintPage, type PrintPageProps } from './pages/print-page.js';
import { PrivacyPage, type PrivacyPageProps } from './pages/privacy-page.js';

/** The pages as the HTML documents the server sends: rendered once, never hydrated (no script at all). */
const documentOf = (page: preact.VNode) => `<!doctype html>${render(page)}`;

export const renderPrivacyPage = (props: PrivacyPageProps) => documentOf(<PrivacyPage {...props} />);
export const renderDetailsPage = (props: DetailsPageProps) => documentOf(<DetailsPage {...props} />);
export const renderErasurePage = (props: ErasurePageProps) => documentOf(<ErasurePage {...props} />);
export const renderPrintPage = (props: PrintPageProps) => documentOf(<PrintPage {...props} />);
export const renderNoticePage = (props: NoticeProps) => documentOf(<NoticePage {...props} />);
