import { Layout, type FrameProps } from './layout.js';

export interface NoticeProps extends FrameProps {
  title: string;
  text: string;
}

/** A page that says only what happened (an unknown or dead link, a refused form): nothing about anyone. */
export function NoticePage(props: NoticeProps) {
  return (
    <Layout {...props} switchTo={undefined}>
      <h1>{props.title}</h1>
      <p class="lead">{props.text}</p>
    </Layout>
  );
}
