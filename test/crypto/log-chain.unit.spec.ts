import { expect } from 'chai';
import { GENESIS_HASH, LogChainVerifier } from '../../src/crypto/hash-chain.js';
import { placeInLog, type PlannedEvent } from '../../src/store/append-plan.js';

/** The global chain: what a store writes (placeInLog) and what an auditor checks (LogChainVerifier). */
describe('the global chain', () => {
  const planned = (n: number): PlannedEvent =>
    ({ id: `e${n}`, stream: `s${n % 2}`, hash: `${n}`.padStart(64, 'a') }) as PlannedEvent;
  const log = () => placeInLog([1, 2, 3, 4, 5, 6].map(planned), { position: 0, logHash: GENESIS_HASH }).placed;
  const verify = (records: Array<{ position: number; hash: string; logHash: string | null }>) => {
    const verifier = new LogChainVerifier();
    for (const record of records) verifier.check(record);
    return verifier.report();
  };
  const positionsOf = (report: ReturnType<typeof verify>) => report.breaks.map((link) => link.position);

  it('places a group after the tail, and the next group links to where the first ended', () => {
    const first = placeInLog([planned(1), planned(2)], { position: 0, logHash: GENESIS_HASH });
    const second = placeInLog([planned(3)], first.tail);
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
    const inserted: Array<{ position: number; hash: string; logHash: string | null }> = log().map((record) =>
      record.position >= 4 ? { ...record, position: record.position + 1 } : record,
    );
    inserted.splice(3, 0, { ...inserted[3]!, hash: 'f'.repeat(64), position: 4, logHash: null });
    // The inserted record breaks first; every record after it moved one place down.
    expect(positionsOf(verify(inserted))).to.deep.equal([4, 5, 6, 7]);
  });

  it('starts at the first chained record of a ledger older than the chain', () => {
    const older = [1, 2].map((position) => ({ position, hash: 'b'.repeat(64), logHash: null }));
    const newer = placeInLog([planned(3), planned(4)], { position: 2, logHash: GENESIS_HASH }).placed;
    expect(verify([...older, ...newer])).to.deep.equal({ chained: 2, from: 3, breaks: [] });
  });
});
