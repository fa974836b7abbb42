import type { ContactExport } from '../../app/export-contact.js';
import { formatDate } from '../components/dates.js';
import type { EventType } from '../../domain/catalog.js';
import { Layout } from './layout.js';
import { DetailsSection, nameOf, OrdersSection, pathOf, type PrivacyPageProps } from './privacy-page.js';

export type PrintPageProps = Omit<PrivacyPageProps, 'done' | 'renew' | 'errors'> & { exported: ContactExport };

/** A value of an event's data as lines "path: value", nested objects and lists flattened. */
function recordedLines(value: unknown, path = ''): string[] {
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => recordedLines(inner, path ? `${path}.${key}` : key));
  }
  return [`${path}: ${String(value)}`];
}

/**
 * Everything the export holds, as a page the person can read and print: their details, each
 * consent's proof, their orders, then every event of their history with what it recorded (fields
 * erased or withheld said as such). The JSON download holds the same, for machines.
 */
export function PrintPage(props: PrintPageProps) {
  const { language, messages, token, page, exported } = props;
  const { print } = messages;
  return (
    <Layout {...props} title={print.title}>
      <p class="no-print">
        <a href={pathOf(token, language)}>{print.button}</a>
      </p>
      <h1>{print.title}</h1>
      <p class="lead">{print.intro(formatDate(language, exported.exportedAt))}</p>
      <DetailsSection {...props} />
      <h2>{print.consentsHeading}</h2>
      <EventTable
        {...props}
        events={exported.consentEvidence}
        what={(event) => {
          const purpose = page.purposes.find((p) => p.code === event.data['purpose']);
          return purpose ? messages.forPurpose(nameOf(purpose, language)) : '';
        }}
      />
      <OrdersSection {...props} />
      <h2>{print.timelineHeading}</h2>
      <EventTable {...props} events={exported.timeline} />
    </Layout>
  );
}

type RecordedEvent = Pick<ContactExport['timeline'][number], 'type' | 'occurredAt' | 'data' | 'erased'> & {
  withheld?: string[] | undefined;
};

/** Events as rows: when, what in words (and `what` adds, such as the purpose), and what each recorded. */
function EventTable(
  props: PrintPageProps & { events: readonly RecordedEvent[]; what?: (event: RecordedEvent) => string },
) {
  const { language, messages, events, what } = props;
  const { print } = messages;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">{print.when}</th>
          <th scope="col">{print.what}</th>
          <th scope="col">{print.recorded}</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr>
            <td>{formatDate(language, event.occurredAt)}</td>
            <td>
              {messages.eventNames[event.type as EventType] ?? event.type}
              {what?.(event)}
            </td>
            <td>
              <Recorded {...props} event={event} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Recorded({ messages, event }: PrintPageProps & { event: RecordedEvent }) {
  const lines = [
    ...recordedLines(event.data),
    ...event.erased.map((field) => `${field}: ${messages.print.erased}`),
    ...(event.withheld ?? []).map(
      (path) => `${path.replace(/^\//, '').replaceAll('/', '.')}: ${messages.print.withheld}`,
    ),
  ];
  return (
    <ul class="list recorded">
      {lines.map((line) => (
        <li>{line}</li>
      ))}
    </ul>
  );
}
