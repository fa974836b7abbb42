import { Layout, type FrameProps } from './layout.js';
import { pathOf } from './privacy-page.js';

export interface ErasurePageProps extends FrameProps {
  token: string;
  formToken: string;
}

/** The confirmation step before a request to be forgotten: what it will do, then one button, or back. */
export function ErasurePage(props: ErasurePageProps) {
  const { language, messages, token, formToken } = props;
  const { erasure } = messages;
  return (
    <Layout {...props} title={erasure.confirmTitle}>
      <h1>{erasure.confirmTitle}</h1>
      <ul class="list list-bullet">
        {erasure.consequences.map((consequence) => (
          <li>{consequence}</li>
        ))}
      </ul>
      <form method="post" action={`/privacy/${token}/erasure`}>
        <input type="hidden" name="csrf" value={formToken} />
        <input type="hidden" name="lang" value={language} />
        <div class="button-group">
          <button type="submit" class="button button-warning">
            {erasure.confirm}
          </button>
          <a class="link-button" href={pathOf(token, language)}>
            {erasure.cancel}
          </a>
        </div>
      </form>
    </Layout>
  );
}
