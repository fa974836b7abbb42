import { workerData } from 'node:worker_threads';
import { serveCalls } from '../worker-thread.js';
import { StateDbWriter, type StateDbWriterCall } from './state-db-writer.js';

/** The state.db writer thread (see StateDbWriter): one call at a time, in the order posted. */
const writer = new StateDbWriter((workerData as { path: string }).path);

serveCalls(
  async (call: StateDbWriterCall) => {
    if (call === 'reset') writer.reset();
    else if (call === 'discard') writer.discard();
    else if (call === 'beginRebuild') writer.beginRebuild();
    else if (call === 'swapIn') writer.swapIn();
    else if (call === 'dropRebuild') writer.dropRebuild();
    else if ('stage' in call) writer.stage(call.stage);
    else if ('delivery' in call) writer.advanceDelivery(call.delivery);
    else if ('replayDeadLetters' in call) writer.replayDeadLetters(call.replayDeadLetters);
    else if ('settleDeadLetter' in call) writer.settleDeadLetter(call.settleDeadLetter);
    else writer.commit(call.commit.projection, call.commit.checkpoint, call.commit.deletes, call.commit.target);
  },
  () => writer.close(),
);
