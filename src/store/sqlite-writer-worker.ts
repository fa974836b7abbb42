import { parentPort, workerData } from 'node:worker_threads';
import { GroupCommit } from './group-commit.js';
import { SqliteAppender } from './sqlite-appender.js';
import type { AppendOutcome, EventToAppend } from './event-store.js';
import { toWire } from '../domain/wire-errors.js';
import type { WriterCall, WriterInput, WriterReply } from './sqlite-writer.js';

/**
 * The events.db writer thread (see WriterThread): calls that arrive while a group commits are
 * committed together by the next group (one transaction, one fsync), each settled on its own.
 */
const input = workerData as WriterInput;
const port = parentPort!;
const appender = new SqliteAppender(input.path, input.indexedTypes);
const group = new GroupCommit<readonly EventToAppend[], AppendOutcome>((calls) => appender.append(calls));
const reply = (message: WriterReply) => port.postMessage(message);

port.on('message', (call: WriterCall) => {
  if ('close' in call) {
    appender.close();
    port.close();
    return;
  }
  group.submit(call.events).then(
    (outcome) => reply({ id: call.id, outcome }),
    (error: unknown) => reply({ id: call.id, error: toWire(error) }),
  );
});
