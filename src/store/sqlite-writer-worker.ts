import { workerData } from 'node:worker_threads';
import { GroupCommit } from './group-commit.js';
import { SqliteAppender } from './sqlite-appender.js';
import type { AppendOutcome, EventToAppend } from './event-store.js';
import { serveCalls } from '../worker-thread.js';
import type { WriterInput } from './sqlite-writer.js';

/**
 * The events.db writer thread (see WriterThread): calls that arrive while a group commits are
 * committed together by the next group (one transaction, one fsync), each settled on its own.
 */
const input = workerData as WriterInput;
const appender = new SqliteAppender(input.path, input.fences);
const group = new GroupCommit<readonly EventToAppend[], AppendOutcome>((calls) => appender.append(calls));

serveCalls(
  (events: readonly EventToAppend[]) => group.submit(events),
  () => appender.close(),
);
