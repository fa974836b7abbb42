import { expect } from 'chai';
import { GENESIS_HASH, LogChainVerifier, logLink, type LoggedRecord } from '../../src/crypto/hash-chain.js';
import { placeInLog, type PlannedEvent } from '../../src/store/append-plan.js';

/** The global chain: what a store writes (placeInLog) and what an auditor checks (LogChainVerifier). */
describe('the global chain', () => {
  const planned = (n: number): PlannedEvent =>
    ({ id: `e${n}`, stream: `s${n % 2}`, revision: n >> 1, hash: `${n}`.padStart(64, 'a') }) as PlannedEvent;
  const at = '2026-03-01T10:00:00.000Z';
  const log = () => placeInLog([1, 2, 3, 4, 5, 6].map(planned), { position: 0, logHash: GENESIS_HASH }, at).placed;
  const verify = (records: LoggedRecord[]) => {
    const verifier = new LogChainVerifier();
    for (const record of records) verifier.check(record);
    return verifier.report();
  };
  const positionsOf = (report: ReturnType<typeof verify>) => report.breaks.map((link) => link.position);

  it('places a group after the tail, and the next group links to where the first ended', () => {
    const first = placeInLog([planned(1), planned(2)], { position: 0, logHash: GENESIS_HASH }, at);
    const second = placeInLog([planned(3)], first.tail, at);
    expect([...first.placed, ...second.placed].map((event) => event.position)).to.deep.equal([1, 2, 3]);
    expect([...first.placed, ...second.placed].map((event) => event.logHash)).to.deep.equal(
      log()
        .slice(0, 3)
        .map((event) => event.logHash),
    );
    expect(verify(log())).to.deep.equal({ chained: 6, from: 1, breaks: [] });
  });

  it('finds two records that traded places at exactly their two positions', () => {
    const records = log();
    const [third, fifth] = [records[2]!, records[4]!];
    records[2] = { ...fifth, position: 3, logHash: third.logHash };
    records[4] = { ...third, position: 5, logHash: fifth.logHash };
    expect(positionsOf(verify(records))).to.deep.equal([3, 5]);
  });

  it('finds a removed record at the next position, and an inserted one where it was put', () => {
    const removed = log().filter((record) => record.position !== 4);
    expect(positionsOf(verify(removed))).to.deep.equal([5]);
    const inserted: LoggedRecord[] = log().map((record) =>
      record.position >= 4 ? { ...record, position: record.position + 1 } : record,
    );
    inserted.splice(3, 0, { ...inserted[3]!, hash: 'f'.repeat(64), position: 4, logHash: null, logVersion: null });
    // The inserted record breaks first; every record after it moved one place down.
    expect(positionsOf(verify(inserted))).to.deep.equal([4, 5, 6, 7]);
  });

  it('starts at the first chained record of a ledger older than the chain', () => {
    const older = [1, 2].map((position) => ({
      position,
      stream: 's',
      revision: position - 1,
      recordedAt: at,
      hash: 'b'.repeat(64),
      logHash: null,
      logVersion: null,
    }));
    const newer = placeInLog([planned(3), planned(4)], { position: 2, logHash: GENESIS_HASH }, at).placed;
    expect(verify([...older, ...newer])).to.deep.equal({ chained: 2, from: 3, breaks: [] });
  });

  it('covers recordedAt from version 2 on: a changed time breaks the chain at its record', () => {
    const records = log();
    expect(records.map((record) => record.logVersion)).to.deep.equal([2, 2, 2, 2, 2, 2]);
    records[3] = { ...records[3]!, recordedAt: '2026-03-01T09:00:00.000Z' };
    expect(verify(records).breaks).to.deep.equal([
      {
        position: 4,
        stream: 's0',
        revision: 2,
        reason:
          'the record does not follow the one before it in the log (moved, inserted or removed), ' +
          'or its recordedAt or log version changed',
      },
    ]);
  });

  it('verifies records of version 1 as they were written, then version 2 after them', () => {
    // A log written before version 2 (no log_version: null reads as 1), then one more group.
    let logHash = GENESIS_HASH;
    const older: LoggedRecord[] = [1, 2, 3].map((position) => {
      const record = { position, stream: 's', revision: position - 1, recordedAt: at, hash: `${position}`.repeat(64) };
      logHash = logLink(logHash, record, 1);
      return { ...record, logHash, logVersion: null };
    });
    const newer = placeInLog([planned(4), planned(5)], { position: 3, logHash }, at).placed;
    expect(verify([...older, ...newer])).to.deep.equal({ chained: 5, from: 1, breaks: [] });
    // Version 1 does not cover the time: changed there, it is the checkpoints' to find (version 2's leaves).
    older[1] = { ...older[1]!, recordedAt: '2020-01-01T00:00:00.000Z' };
    expect(verify([...older, ...newer]).breaks).to.deep.equal([]);
    // A version 2 record passed off as version 1 (its time changed, its version lowered) does not link.
    const lowered = { ...newer[0]!, recordedAt: '2020-01-01T00:00:00.000Z', logVersion: 1 as const };
    expect(positionsOf(verify([...older, lowered, newer[1]!]))).to.deep.equal([4]);
  });
});
