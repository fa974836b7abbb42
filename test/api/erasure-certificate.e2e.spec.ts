import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openTestLedger, TEST_STORE, type TestLedger } from '../support/ledger.js';
import { TEST_DATABASE_URL } from '../support/postgres.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { flipByte } from '../support/stored.js';
import { person, registered, ticketSold, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { verifyAgainstCheckpoint } from '../../src/app/audit-checkpoint.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';

/**
 * A reader of the key store that began before a forgetting (a report, a backup): on SQLite a read
 * transaction on keys.db (it holds the WAL), on PostgreSQL a repeatable-read snapshot.
 */
async function keyStoreReader(ledger: TestLedger): Promise<{ end(): Promise<void> }> {
  if (TEST_STORE === 'postgres') {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await client.query('SELECT 1');
    return { end: () => client.end() };
  }
  const db = new Database(join(ledger.dir, 'keys.db'));
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM keys').get();
  return {
    end: async () => {
      db.close();
    },
  };
}

/** Issue 27, item 7: the signed erasure certificate, over HTTP and from the CLI, verified offline. */
describe('erasure certificates', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  let folder: string;
  const route = '/v1/erasure-requests';
  const ask = (p: Person) =>
    api.post(route, { contactId: p.contactId, channel: 'post', evidence: `Letter signed by ${p.lastName}` });
  const certificateOf = (requestId: string) => api.get(`${route}/${requestId}/certificate`);
  const [customer, prospect] = [person(), person()];
  const personal = (p: Person) => [p.email, p.firstName, p.lastName, p.phone, p.street, p.ip];
  let requestId: string;
  const subscriberKeys: Record<string, string> = {};
  /** A downstream system says it erased its copy after the forgetting (POST /v1/subscribers/:name/acks). */
  const ack = async (name: string, eventId: string) => {
    const answer = await api.post(
      `/v1/subscribers/${name}/acks`,
      { eventId },
      {
        authorization: `Bearer ${subscriberKeys[name]}`,
      },
    );
    expect(answer.status, answer.text).to.equal(201);
    return answer;
  };

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    folder = mkdtempSync(join(tmpdir(), 'certificate-'));
    await publish(ledger, { events: [registered(customer), ticketSold(customer, `O-${customer.contactId}`)] });
    await publish(ledger, registered(prospect));
    requestId = (await ask(customer)).body.requestId;
    // Two downstream systems whose word each forgetting awaits, each with its own key.
    for (const name of ['mailing-tool', 'warehouse']) {
      const answer = await api.put(`/v1/subscribers/${name}`, { kind: 'nats', subject: name, confirmsErasure: true });
      expect(answer.status, answer.text).to.equal(201);
      subscriberKeys[name] = (await issueApiKey(ledger, { role: 'subscriber', subscriber: name })).token;
    }
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
    rmSync(folder, { recursive: true, force: true });
  });

  it('a request not executed has none: 422 saying to execute it; refused, 422; unknown, 404', async () => {
    const head = await ledger.store.headPosition();
    const pending = await certificateOf(requestId);
    expect(pending.status, pending.text).to.equal(422);
    expect(pending.body.detail).to.match(/is pending: nothing was forgotten/);
    expect(pending.body.action).to.include(`${route}/${requestId}/execute`);
    const refusedId = (await ask(prospect)).body.requestId;
    expect((await api.post(`${route}/${refusedId}/refuse`, { reason: 'identity-not-verified' })).status).to.equal(200);
    const refused = await certificateOf(refusedId);
    expect(refused.status, refused.text).to.equal(422);
    expect(refused.body.detail).to.match(/is refused/);
    const unknown = await certificateOf('ER-unknown');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.type).to.equal('urn:contact-ledger:problem:unknown-erasure-request');
    expect((await certificateOf(encodeURIComponent(customer.email))).status).to.equal(400);
    expect(await ledger.store.headPosition(), 'nothing appended').to.equal(head + 2); // the request, the refusal
  });

  it('of an executed request: nothing personal; the log, the key store and the confirmations as they are', async () => {
    expect((await api.post(`${route}/${requestId}/execute`, {})).status).to.equal(200);
    const stream = await ledger.store.readStream(`contact-${customer.contactId}`);
    const forgetting = stream.at(-1)!;
    const early = await certificateOf(requestId);
    expect(early.status, 'not before its keys are destroyed').to.equal(422);
    expect(early.body.detail).to.match(/not all destroyed yet/);
    await ledger.shredder.shredFor(forgetting);

    // The mailing tool confirms it erased its copy.
    const confirmation = (await ack('mailing-tool', forgetting.id)).body.confirmedBy;

    const answer = await certificateOf(requestId);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    for (const value of personal(customer)) expect(answer.text).not.to.contain(value);
    const certificate = answer.body;
    expect(certificate.request).to.deep.equal({
      requestId,
      channel: 'post',
      contactId: customer.contactId,
      requestedAt: stream.find((event) => event.type === 'ErasureRequested')!.occurredAt,
    });
    const { inclusion, ...logged } = certificate.forgetting;
    expect(logged).to.deep.equal({
      eventId: forgetting.id,
      type: 'ContactAnonymized',
      occurredAt: forgetting.occurredAt,
      position: forgetting.position,
      recordedAt: forgetting.recordedAt,
      hash: forgetting.hash,
    });
    const confirmed = (await ledger.store.readStream(forgetting.stream)).find(
      (event) => event.id === confirmation.eventId,
    )!;
    expect(certificate.confirmations).to.have.length(1);
    expect(certificate.confirmations[0]).to.deep.include({
      subscriber: 'mailing-tool',
      eventId: confirmed.id,
      confirmedAt: confirmed.occurredAt,
      position: confirmed.position,
      recordedAt: confirmed.recordedAt,
      hash: confirmed.hash,
    });
    expect(certificate.awaitingConfirmation).to.deep.equal(['warehouse']);
    const contactKey = stream.find((event) => event.type === 'ContactRegistered')!.sealed!.keyId;
    expect(certificate.keysDestroyed).to.have.length(1);
    expect(certificate.keysDestroyed[0]).to.include({
      scope: `contact:${customer.contactId}`,
      keyId: contactKey,
      reason: 'ContactAnonymized',
      eventId: forgetting.id,
    });
    expect((await ledger.keys.destroyed([contactKey])).get(contactKey)).to.equal(forgetting.id);
    const { checkpoint } = certificate;
    expect(checkpoint.position).to.be.at.least(confirmed.position);
    expect(inclusion.treeSize).to.equal(checkpoint.size);
    expect(inclusion.treeSize).to.equal(checkpoint.size);
    const publicKey = ledger.checkpointSigner.publicKeyPem();
    expect(await verifyAgainstCheckpoint(ledger, checkpoint, publicKey), 'a checkpoint of this log').to.include({
      ok: true,
    });

    // The last system confirms: the request is done, and its certificate says so.
    const last = (await ack('warehouse', forgetting.id)).body.confirmedBy;
    expect((await api.get(`${route}/${requestId}`)).body.status).to.equal('done');
    const done = (await certificateOf(requestId)).body;
    expect(done.awaitingConfirmation).to.deep.equal([]);
    expect(
      done.confirmations.map((c: { subscriber: string; eventId: string }) => [c.subscriber, c.eventId]),
    ).to.deep.equal([
      ['mailing-tool', confirmation.eventId],
      ['warehouse', last.eventId],
    ]);
  });

  it('exported by the CLI and verified offline: a field changed or another key: exit 3', async () => {
    const file = join(folder, 'certificate.json');
    const exported = runCli(['export-certificate', requestId, '--out', file], ledger.env);
    expect(exported.status, exported.stderr).to.equal(0);
    expect(exported.stderr).to.include(file);
    const text = readFileSync(file, 'utf8');
    for (const value of personal(customer)) expect(text).not.to.contain(value);
    const onStdout = runCli(['export-certificate', requestId, '--json'], ledger.env);
    expect(JSON.parse(onStdout.stdout).forgetting).to.deep.equal(JSON.parse(text).forgetting);

    const ownKey = runCli(['audit', 'verify-certificate', file], ledger.env);
    expect(ownKey.status, ownKey.stdout + ownKey.stderr).to.equal(0);
    expect(ownKey.stdout).to.match(/^OK: erasure request ER-.* and 2 downstream confirmation\(s\) \(0 awaited\)/);
    // Online, the auditor holds the log to the certificate's checkpoint: the log still holds its records.
    const extended = runCli(['audit', 'verify', '--against', file], ledger.env);
    expect(extended.status, extended.stdout + extended.stderr).to.equal(0);
    expect(extended.stdout).to.match(/^OK: the log extends the checkpoint at position \d+/);
    // Offline: the public key alone, no data folder.
    const publicKey = join(folder, 'audit.pem');
    writeFileSync(publicKey, ledger.checkpointSigner.publicKeyPem());
    const offline = { ...process.env, LEDGER_DATA_DIR: join(folder, 'no-ledger-here'), LOG_LEVEL: 'silent' };
    const verify = (path: string) => runCli(['audit', 'verify-certificate', path, '--public-key', publicKey], offline);
    const verified = verify(file);
    expect(verified.status, verified.stdout + verified.stderr).to.equal(0);

    // Each field changed is named by the unit spec (test/crypto/erasure-certificate.unit.spec.ts); here, the exit.
    const changed = JSON.parse(text);
    changed.forgetting.position += 1;
    const path = join(folder, 'changed.json');
    writeFileSync(path, JSON.stringify(changed, null, 2));
    const refused = verify(path);
    expect(refused.status).to.equal(3);
    expect(refused.stdout).to.match(/^INVALID: \/forgetting\/position was changed: it is not what was signed/);

    // A member written twice: JSON.parse keeps the signed last, a reader may see the first.
    writeFileSync(path, text.replace('"channel": "post"', '"channel": "email", "channel": "post"'));
    const repeated = verify(path);
    expect(repeated.status).to.equal(3);
    expect(repeated.stdout).to.match(/^INVALID: \/request\/channel is written twice/);

    const other = join(folder, 'other.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const otherKey = runCli(['audit', 'verify-certificate', file, '--public-key', other], offline);
    expect(otherKey.status).to.equal(3);
    expect(otherKey.stdout).to.match(/\/signature is not by the public key given .*names audit key/);
    const notKey = runCli(['audit', 'verify-certificate', file, '--public-key', file], offline);
    expect([notKey.status, notKey.stderr]).to.deep.equal([2, `ledger: ${file} is not a public key (PEM)\n`]);
    expect(existsSync(join(folder, 'no-ledger-here')), 'verified without a ledger').to.equal(false);
    const unknown = runCli(['export-certificate', 'ER-unknown'], ledger.env);
    expect([unknown.status, unknown.stdout]).to.deep.equal([2, '']);
  });

  it("not while a reader from before the forgetting holds the destroyed keys' bytes in the key files", async () => {
    const reader = await keyStoreReader(ledger);
    const id = (await ask(prospect)).body.requestId;
    expect((await api.post(`${route}/${id}/execute`, {})).status).to.equal(200);
    const forgetting = (await ledger.store.readStream(`contact-${prospect.contactId}`)).at(-1)!;
    await ledger.shredder.shredFor(forgetting);
    const held = await certificateOf(id);
    expect(held.status, held.text).to.equal(422);
    expect(held.body.detail).to.match(/not wiped from the key store's files yet/);
    await reader.end();
    const answer = await certificateOf(id);
    expect(answer.status, answer.text).to.equal(200);
  });

  it('a forgetting whose stored record was changed since it was written is not certified (500)', async () => {
    const forgetting = (await ledger.store.readStream(`contact-${customer.contactId}`)).find(
      (event) => event.type === 'ContactAnonymized',
    )!;
    await flipByte(ledger, forgetting.stream, forgetting.revision, 'data', (text) => text.indexOf('"reason"') + 2);
    const refused = await certificateOf(requestId);
    expect(refused.status, refused.text).to.equal(500);
    expect(refused.body.type).to.equal('urn:contact-ledger:problem:integrity-failure');
  });
});
