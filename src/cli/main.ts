#!/usr/bin/env node
import { Command, Option } from 'commander';
import { readConfig, type LedgerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { LedgerError, ValidationError } from '../domain/errors.js';
import { problemOf } from '../api/problem.js';
import { packageVersion } from '../version.js';
import { isOpaqueId } from '../domain/identifiers.js';
import { backupLedger, openLedger, rotateLedgerMasterKey, type OpenLedger } from '../app/open-ledger.js';
import { MasterKey } from '../crypto/master-key.js';
import { forgetContact } from '../app/forget-contact.js';
import { verifyChains } from '../app/verify-chains.js';
import { auditCheckpoint, recordCheckpoint, verifyAgainstCheckpoint } from '../app/audit-checkpoint.js';
import type { SignedCheckpoint } from '../crypto/log-checkpoint.js';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { erasureCertificate } from '../app/erasure-certificate.js';
import { publicKeyFingerprint, verifyCertificate } from '../crypto/erasure-certificate.js';
import { CERTIFICATE_KIND, type ErasureCertificate } from '../domain/erasure-certificate.js';
import { resolve } from 'node:path';
import { issueApiKey } from '../app/issue-api-key.js';
import { exportContact } from '../app/export-contact.js';
import { listApiKeys } from '../app/list-api-keys.js';
import { revokeApiKey } from '../app/revoke-api-key.js';
import { runInactiveBatch } from '../app/inactive-contacts-batch.js';
import { expireConsents } from '../app/consent-expiry.js';
import { verifyProjections } from '../app/verify-projections.js';
import { DEFAULT_LINK_DAYS, issuePrivacyLink } from '../app/consent-links.js';
import { DEFAULT_INACTIVITY_MONTHS } from '../domain/inactive-contacts.js';
import { ROLES, type Role } from '../domain/api-keys.js';
import { progressBar } from './progress.js';
import { parseDayOrInstant } from '../api/request-bodies.js';
import { DEMO_EVENTS_PER_CONTACT, publishDemo } from '../demo/demo.js';
import { capHeapGrowth } from './heap.js';

/** Checked here rather than by commander, whose message would echo a value that may be personal. */
function requireOpaqueIds(ids: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(ids)) {
    if (value !== undefined && !isOpaqueId(value)) {
      throw new ValidationError(
        `${name} is not an opaque id (letters, digits, . _ : -; not an e-mail or phone number)`,
      );
    }
  }
}

/**
 * Runs a command on the configured ledger. Only `demo` and `keys create` may start a new one
 * (`create`); every other command on a folder or schema holding no ledger says so and creates
 * nothing (NoLedger), rather than making a master key to answer "no events".
 */
async function withLedger<T>(
  work: (opened: OpenLedger, config: LedgerConfig) => Promise<T>,
  { create = false } = {},
): Promise<T> {
  const config = readConfig();
  const opened = await openLedger(config, createLogger(config.logLevel), { existing: !create });
  try {
    return await work(opened, config);
  } finally {
    await opened.close();
  }
}

/** Keys, checkpoints and certificates the ledger writes are kilobytes: a larger file is none of them. */
const USER_FILE_LIMIT = 16 * 1024 * 1024;

/** A file the user named, read; a file that cannot be read, or too large, is a one-line refusal naming it. */
function readUserFile(file: string, what: string): string {
  try {
    if (statSync(file).size > USER_FILE_LIMIT) {
      throw new ValidationError(`the ${what} ${resolve(file)} is larger than 16 MB: not one the ledger writes`);
    }
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : String(code ?? 'unreadable');
    throw new ValidationError(`cannot read the ${what} ${resolve(file)}: ${why}`);
  }
}

/** A public key file (PEM) the user named, or a one-line refusal naming it. */
function readPublicKey(file: string): string {
  const pem = readUserFile(file, 'public key file');
  try {
    publicKeyFingerprint(pem);
  } catch {
    throw new ValidationError(`${resolve(file)} is not a public key (PEM)`);
  }
  return pem;
}

/** The text of a JSON file the user named, parsed; one that is not JSON is a one-line refusal naming it. */
function parseJsonFile(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError(`the ${what} ${resolve(file)} is not JSON`);
  }
}

/**
 * A checkpoint file as `ledger audit checkpoint` prints it, or an erasure certificate (its
 * checkpoint: a log that extends it holds the certificate's records), or a one-line refusal.
 */
function readCheckpoint(file: string): SignedCheckpoint {
  const text = readUserFile(file, 'checkpoint file');
  let parsed: Partial<SignedCheckpoint> | null = null;
  try {
    const json = JSON.parse(text) as (Partial<SignedCheckpoint> & Partial<ErasureCertificate>) | null;
    parsed = json?.certificate === CERTIFICATE_KIND ? (json.checkpoint ?? null) : json;
  } catch {
    // refused below
  }
  const { position, size, rootHash, signature } = parsed ?? {};
  if (
    !Number.isSafeInteger(position) ||
    !Number.isSafeInteger(size) ||
    typeof rootHash !== 'string' ||
    typeof signature !== 'string'
  ) {
    throw new ValidationError(`${resolve(file)} is not a checkpoint as ledger audit checkpoint prints it (JSON)`);
  }
  return parsed as SignedCheckpoint;
}

/** What every command that opens the ledger reads (README "Configuration"). */
const STORE_ENV = [
  'LEDGER_STORE',
  'LEDGER_DATA_DIR',
  'LEDGER_DATABASE_URL',
  'LEDGER_DATABASE_SCHEMA',
  'LEDGER_KEYS_DATABASE_URL',
  'LEDGER_KEYS_SCHEMA',
  'LEDGER_DATABASE_TIMEOUT',
  'LEDGER_DATABASE_APPLICATION_NAME',
  'ESDB_CONNECTION_STRING',
  'LEDGER_ESDB_STREAM_PREFIX',
];
const MASTER_KEY_ENV = ['LEDGER_MASTER_KEY', 'LEDGER_MASTER_KEY_FILE', 'LEDGER_MASTER_KEY_COMMAND'];
const LEDGER_ENV = [
  ...STORE_ENV,
  ...MASTER_KEY_ENV,
  'LEDGER_AUDIT_KEY_FILE',
  'LEDGER_FORGET_JOURNAL',
  'LEDGER_ON_LOG_MISMATCH',
  'LOG_LEVEL',
];
const SERVE_ENV = [
  ...LEDGER_ENV,
  'HOST',
  'PORT',
  'LEDGER_ALLOWED_HOSTS',
  'LEDGER_MAX_BODY',
  'LEDGER_TEXT_GUARD',
  'LEDGER_CHECKPOINT_MINUTES',
  'LEDGER_PUBLIC_URL',
  'LEDGER_INSTITUTION_NAME',
  'LEDGER_PRIVACY_POLICY_URL',
];

/** The "Environment:" section of a command's --help: the variables it reads, wrapped. */
function environment(names: readonly string[]): string {
  const lines = [''];
  for (const name of names) {
    const last = lines.length - 1;
    if (lines[last]!.length + name.length > 96) lines.push('');
    lines[lines.length - 1] += lines[lines.length - 1] ? ` ${name}` : name;
  }
  return `\nEnvironment (README "Configuration"):\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}

const program = new Command('ledger')
  .description('Event-sourced GDPR contact ledger')
  .version(packageVersion())
  .addHelpText('after', '\nEach command names the environment variables it reads in its own --help.\n');

program
  .command('serve')
  .description('run the HTTP API on the configured store')
  .addHelpText('after', environment(SERVE_ENV))
  .action(async () => {
    // Loaded here: the HTTP stack (express, metrics) costs the other commands ~20 MB for nothing.
    const { serve } = await import('./serve.js');
    await serve(readConfig());
  });

const audit = program.command('audit').description('auditor tools');

audit
  .command('verify')
  .description(
    'verify the hash chains and the positions of the log, or one stream; or that the log extends a checkpoint',
  )
  .option('--stream <stream>', 'verify one stream only, e.g. contact-C-1001')
  .option(
    '--against <file>',
    'a checkpoint (JSON) kept earlier, or an erasure certificate: prove nothing up to it was removed or changed',
  )
  .option('--public-key <file>', "the ledger's public key (PEM) as the auditor holds it; default the ledger's own")
  .option('--json', 'print the report as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { stream?: string; against?: string; publicKey?: string; json?: boolean }) => {
    if (options.against) {
      const checkpoint = readCheckpoint(options.against);
      const publicKey = options.publicKey ? readUserFile(options.publicKey, 'public key file') : null;
      const result = await withLedger((ledger) =>
        verifyAgainstCheckpoint(ledger, checkpoint, publicKey ?? ledger.checkpointSigner.publicKeyPem()),
      );
      process.exitCode = result.ok ? 0 : 3;
      if (options.json) return console.log(JSON.stringify(result));
      if (result.ok) {
        return console.log(
          `OK: the log extends the checkpoint at position ${result.position} (${result.size} records)`,
        );
      }
      const signature = result.signed ? '' : "the checkpoint's signature is not the ledger key's; ";
      const tree = result.extends
        ? ''
        : `up to position ${result.position} the log holds ${result.found.size} records whose tree hash is not ` +
          `the checkpoint's (${result.size} records): records were removed, inserted, reordered or changed`;
      const [changed] = result.changed;
      const where = changed ? `; first at position ${changed.position} (${named(changed)}): ${changed.reason}` : '';
      return console.log(`BROKEN: ${signature}${tree}${where}`);
    }
    const report = await withLedger(async (ledger) => {
      const bar = options.stream ? null : progressBar('verifying', await ledger.store.headPosition());
      try {
        return await verifyChains(ledger, options.stream, (events) => bar?.update(events));
      } finally {
        bar?.stop();
      }
    });
    if (options.json) console.log(JSON.stringify(report));
    else
      console.log(report.ok ? `OK: ${report.events} events in ${report.streams} streams verified` : firstBreak(report));
    process.exitCode = report.ok ? 0 : 3;
  });

/** The record at a position, by its stream and revision. */
const named = (record: { stream: string; revision: number }) => `${record.stream} revision ${record.revision}`;

/** The most precise finding of a failed verification, as one line: a stream, a position, a checkpoint. */
function firstBreak({ broken, gaps, log, checkpoints }: Awaited<ReturnType<typeof verifyChains>>): string {
  const [stream] = broken;
  if (stream) {
    const { stream: name, revision, reason } = stream;
    return `BROKEN: ${broken.length} stream(s); first at ${name} revision ${revision}: ${reason}`;
  }
  const [gap] = gaps;
  if (gap) return `BROKEN: ${gaps.length} gap(s) in the positions; first: positions ${gap.from} – ${gap.to} missing`;
  const [link] = log?.breaks ?? [];
  if (link) {
    const count = log!.breaks.length;
    return (
      `BROKEN: the log's chain breaks at ${count} position(s); ` +
      `first at position ${link.position} (${named(link)}): ${link.reason}`
    );
  }
  const [failed] = checkpoints.failed;
  return (
    `BROKEN: the records up to position ${failed?.position} no longer hash to the checkpoint the log ` +
    `recorded for them: records after position ${failed?.after} were removed, inserted, reordered or changed`
  );
}

audit
  .command('checkpoint')
  .description('print a signed checkpoint of the log (JSON): keep it outside the ledger')
  .option('--record', 'record it in the log too (what `serve` does every LEDGER_CHECKPOINT_MINUTES)')
  .option('--json', 'print it as JSON (what it prints anyway)')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { record?: boolean }) => {
    const make = options.record ? recordCheckpoint : auditCheckpoint;
    console.log(JSON.stringify(await withLedger((ledger) => make(ledger))));
  });

audit
  .command('verify-certificate')
  .description('verify an erasure certificate offline: its signature, its checkpoint, the proofs of its records')
  .argument('<file>', 'the certificate (JSON), as ledger export-certificate writes it')
  .option('--public-key <file>', "the ledger's audit public key (PEM): no data folder needed; default the ledger's own")
  .option('--json', 'print the report as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (file: string, options: { publicKey?: string; json?: boolean }) => {
    const text = readUserFile(file, 'certificate file');
    const document = parseJsonFile(text, file, 'certificate file');
    const publicKey = options.publicKey
      ? readPublicKey(options.publicKey)
      : await withLedger(async (ledger) => ledger.checkpointSigner.publicKeyPem());
    const result = verifyCertificate(document, publicKey, text);
    process.exitCode = result.ok ? 0 : 3;
    if (options.json) return console.log(JSON.stringify(result));
    if (!result.ok) return console.log(`INVALID: ${result.problems.join('; ')}`);
    const { request, forgetting, confirmations, awaitingConfirmation, checkpoint } = document as ErasureCertificate;
    console.log(
      `OK: erasure request ${request.requestId} executed by ${forgetting.type} ${forgetting.eventId}; signed by the ` +
        `audit key; the forgetting (position ${forgetting.position}, hash ${forgetting.hash}) and ` +
        `${confirmations.length} downstream confirmation(s) (${awaitingConfirmation.length} awaited) are in the ` +
        `signed checkpoint at position ${checkpoint.position} (${checkpoint.size} records)`,
    );
  });

audit
  .command('public-key')
  .description("print the public half of the ledger's checkpoint key (PEM), for auditors")
  .option('--json', 'print it as JSON: {publicKey}')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { json?: boolean }) => {
    const publicKey = await withLedger(async (ledger) => ledger.checkpointSigner.publicKeyPem());
    if (options.json) return console.log(JSON.stringify({ publicKey }));
    process.stdout.write(publicKey);
  });

const projections = program.command('projections').description('read models');

projections
  .command('verify')
  .description('fold the log again and compare every read-model row; exit 3 when any differs')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { json?: boolean }) => {
    const report = await withLedger(async (ledger) => {
      const scratch = await ledger.scratchProjections();
      try {
        return await verifyProjections(ledger, scratch, (stage) => process.stderr.isTTY && console.error(stage));
      } finally {
        await scratch.dispose();
      }
    });
    process.exitCode = report.ok ? 0 : 3;
    if (options.json) return console.log(JSON.stringify(report));
    if (report.ok)
      return console.log(`OK: ${report.rows} read-model rows equal the log folded again (position ${report.position})`);
    console.log(
      `DIFFERENT: ${report.differences} read-model row(s) differ from the log folded again ` +
        `(position ${report.position})`,
    );
    for (const { table, key, kind, columns } of report.first) {
      console.log(`  ${table} ${JSON.stringify(key)} ${kind}${columns ? `: ${columns.join(', ')}` : ''}`);
    }
    console.log('(ledger projections rebuild recreates them from the log)');
  });

projections
  .command('rebuild')
  .description('recreate every read model from the log')
  .option('--json', 'print the outcome as JSON')
  .addHelpText('after', environment([...LEDGER_ENV, 'NODE_OPTIONS']))
  .action(async (options: { json?: boolean }) => {
    capHeapGrowth(); // the rebuild's window of rows is the one large heap a command holds
    const result = await withLedger(async ({ store, runner }) => {
      const bar = progressBar('rebuilding', await store.headPosition());
      const started = performance.now();
      try {
        const position = await runner.rebuild((reached) => bar?.update(reached));
        return { position, seconds: (performance.now() - started) / 1000 };
      } finally {
        bar?.stop();
      }
    });
    const rate = Math.round(result.position / result.seconds);
    const peakRss = Math.round(process.resourceUsage().maxRSS / 1024);
    if (options.json)
      return console.log(JSON.stringify({ ...result, eventsPerSecond: rate, peakRssMegabytes: peakRss }));
    console.log(
      `read models rebuilt up to position ${result.position} in ${result.seconds.toFixed(1)} s ` +
        `(${rate} events/s, peak RSS ${peakRss} MB)`,
    );
  });

program
  .command('demo')
  .description('publish a synthetic institution through the upstream path (idempotent)')
  .option('--contacts <n>', 'how many contacts', '10000')
  .option('--seed <n>', 'generator seed (same seed, same institution)', '1')
  .option('--json', 'print the outcome as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { contacts: string; seed: string; json?: boolean }) => {
    const contacts = Number(options.contacts);
    const seed = Number(options.seed);
    if (!Number.isInteger(contacts) || contacts < 1 || contacts > 10_000_000)
      throw new ValidationError('--contacts must be an integer from 1 to 10000000');
    if (!Number.isInteger(seed)) throw new ValidationError('--seed must be an integer');
    const result = await withLedger(
      async (ledger) => {
        const started = performance.now();
        const bar = progressBar('publishing', contacts * DEMO_EVENTS_PER_CONTACT);
        try {
          const published = await publishDemo(ledger, { contacts, seed }, (count) => bar?.update(count));
          await ledger.runner.catchUp();
          return { ...published, seconds: (performance.now() - started) / 1000 };
        } finally {
          bar?.stop();
        }
      },
      { create: true },
    );
    if (options.json) return console.log(JSON.stringify({ contacts, seed, ...result }));
    console.log(
      `demo: ${result.events} events for ${contacts} contacts ` +
        `(${result.appended} appended, ${result.duplicates} already there) in ${result.seconds.toFixed(1)} s`,
    );
  });

program
  .command('backup')
  .description('copy the embedded ledger into a new folder while it runs (a data folder: start on it to restore)')
  .argument('<folder>', 'a folder that does not exist yet, or is empty')
  .option('--json', 'print what was copied as JSON')
  .addHelpText('after', environment(['LEDGER_STORE', 'LEDGER_DATA_DIR']))
  .action((folder: string, options: { json?: boolean }) => {
    const started = performance.now();
    const backup = backupLedger(readConfig(), resolve(folder));
    const seconds = (performance.now() - started) / 1000;
    if (options.json) return console.log(JSON.stringify({ ...backup, seconds }));
    const files = backup.files.map(({ name, bytes }) => `${name} (${bytes} bytes)`).join(', ');
    console.log(`backed up the log up to position ${backup.position} into ${backup.folder}: ${files}`);
    console.log(
      'keep the master key, the audit key and the forget journal apart from it (README "Backups and restores")',
    );
  });

const erasedOrAnonymized = (type: string) => (type === 'ContactErased' ? 'erased' : 'anonymized');

program
  .command('forget')
  .description('forget a contact (a customer anonymized, a prospect erased), then destroy its keys')
  .argument('<contactId>', 'the contact to forget')
  .addOption(new Option('--reason <reason>', 'why').choices(['request', 'inactivity']).makeOptionMandatory())
  .option('--request-id <id>', 'the erasure request (generated when absent)')
  .option('--operator <id>', 'the operator who executes it')
  .option('--json', 'print the outcome as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(
    async (
      contactId: string,
      options: { reason: 'request' | 'inactivity'; requestId?: string; operator?: string; json?: boolean },
    ) => {
      requireOpaqueIds({ contactId, 'request id': options.requestId, 'operator id': options.operator });
      const { result, keysDestroyed } = await withLedger(async (ledger) => {
        const result = await forgetContact(ledger, contactId, {
          reason: options.reason,
          ...(options.reason === 'request'
            ? { requestId: options.requestId ?? `REQ-${Date.now()}` }
            : { runId: `RUN-${Date.now()}` }),
          ...(options.operator ? { operatorId: options.operator } : {}),
        });
        // This process is the reaction's only chance before it exits: run it on the forgetting
        // event now (again, when already forgotten, in case an earlier run stopped before it).
        return { result, keysDestroyed: await ledger.shredder.shredFor(result.forgettingEvent) };
      });
      const { id, type } = result.forgettingEvent;
      if (options.json) {
        const { alreadyForgotten } = result;
        return console.log(
          JSON.stringify({ contactId, forgettingEvent: { id, type }, alreadyForgotten, keysDestroyed }),
        );
      }
      console.log(
        result.alreadyForgotten
          ? `${contactId} was already forgotten by event ${id}; ${keysDestroyed} key(s) destroyed now`
          : `${contactId} ${erasedOrAnonymized(type)} by event ${id}; ` + `${keysDestroyed} key(s) destroyed`,
      );
    },
  );

program
  .command('export')
  .description('everything held about a person, as JSON on stdout (right of access and portability)')
  .argument('<contactId>', 'the contact to export')
  .option('--json', 'print it as JSON on one line (it is JSON either way; indented without)')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (contactId: string, options: { json?: boolean }) => {
    requireOpaqueIds({ contactId });
    const exported = await withLedger((ledger) => exportContact(ledger, contactId));
    console.error(`ledger: ${exported.notice}`);
    console.log(options.json ? JSON.stringify(exported) : JSON.stringify(exported, null, 2));
  });

program
  .command('export-certificate')
  .description('the signed erasure certificate of an executed request (JSON, nothing personal), on stdout or --out')
  .argument('<requestId>', 'the erasure request (ER-…)')
  .option('--out <file>', 'write it to this file')
  .option('--json', 'print it as JSON on one line (it is JSON either way; indented without)')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (requestId: string, options: { out?: string; json?: boolean }) => {
    requireOpaqueIds({ 'request id': requestId });
    const certificate = await withLedger((ledger) => erasureCertificate(ledger, requestId));
    const text = options.json ? JSON.stringify(certificate) : JSON.stringify(certificate, null, 2);
    if (!options.out) return console.log(text);
    writeFileSync(options.out, `${text}\n`);
    console.error(`ledger: the certificate of ${requestId} is in ${resolve(options.out)}`);
  });

program
  .command('batch')
  .description('batch jobs')
  .command('inactive')
  .description('forget inactive contacts: a simulation (writes nothing) unless --apply')
  .option('--months <n>', 'inactivity period in months', String(DEFAULT_INACTIVITY_MONTHS))
  .option('--as-of <date>', 'the day inactivity is measured from (YYYY-MM-DD or RFC 3339); default now')
  .option('--apply', 'forget them: record the run, append the forgettings, destroy the keys')
  .option('--simulation <id>', "with --apply: apply this simulation's outcome (its as-of and months), or refuse")
  .option('--json', 'print the report as JSON, with the contact ids of each outcome')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { months: string; asOf?: string; apply?: boolean; simulation?: string; json?: boolean }) => {
    const asOf = options.asOf === undefined ? undefined : parseDayOrInstant(options.asOf, '--as-of');
    const { report, keysDestroyed } = await withLedger(async (ledger) => {
      const progress: { bar: ReturnType<typeof progressBar> } = { bar: null };
      try {
        // This process has no shredder reaction following the log: the batch shreds as it goes.
        return await runInactiveBatch(ledger, {
          inactivityMonths: Number(options.months),
          ...(asOf ? { asOf } : {}),
          apply: options.apply ?? false,
          ...(options.simulation !== undefined ? { simulationId: options.simulation } : {}),
          onProgress: (done, total) => (progress.bar ??= progressBar('deciding', total))?.update(done),
          shred: (events) => ledger.shredder.shredAll(events),
        });
      } finally {
        progress.bar?.stop();
      }
    });
    if (options.json) return console.log(JSON.stringify({ ...report, keysDestroyed }));
    console.log(
      `${report.simulated ? 'simulation (nothing written)' : `run ${report.runId}`}: inactive for ` +
        `${report.inactivityMonths} months as of ${report.asOf} (recency before ${report.cutoff})`,
    );
    for (const [outcome, count] of Object.entries(report.counts)) console.log(`  ${outcome.padEnd(24)}${count}`);
    if (!report.simulated) console.log(`  ${'keys destroyed'.padEnd(24)}${keysDestroyed}`);
    console.log('(--json lists the contact ids of each outcome)');
    if (report.simulated) console.log(`to apply exactly this: --apply --simulation ${report.simulationId}`);
  });

const consents = program.command('consents').description('consent jobs and links');

consents
  .command('expire')
  .description('the consent-expiry job: every "yes" past its expiry goes back to "unknown"')
  .option('--as-of <date>', 'the day expiry is judged on (YYYY-MM-DD or RFC 3339, not in the future); default now')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { asOf?: string; json?: boolean }) => {
    const asOf = options.asOf === undefined ? undefined : parseDayOrInstant(options.asOf, '--as-of');
    const report = await withLedger(async (ledger) => {
      await ledger.runner.catchUp(); // the read model proposes: bring it up to the log first
      return expireConsents(ledger, asOf ? { asOf } : {});
    });
    if (options.json) return console.log(JSON.stringify(report));
    console.log(`consents expired as of ${report.asOf}: ${report.expired}`);
    for (const [code, { expiryDays, cutoff, expired }] of Object.entries(report.purposes)) {
      console.log(
        `  ${code.padEnd(24)}${String(expired).padStart(8)}  (${expiryDays} days; activity before ${cutoff ?? '-'})`,
      );
    }
  });

consents
  .command('link')
  .description("print a signed, expiring link to the person's privacy center (no account needed), whole")
  .argument('<contactId>', 'the contact id')
  .option('--days <n>', 'how long the link works', String(DEFAULT_LINK_DAYS))
  .option('--json', 'print the link as JSON: {url, token, expiresAt}')
  .addHelpText('after', environment([...LEDGER_ENV, 'LEDGER_PUBLIC_URL', 'PORT']))
  .action(async (contactId: string, options: { days: string; json?: boolean }) => {
    requireOpaqueIds({ contactId });
    const days = Number(options.days);
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new ValidationError('--days must be 1 to 365');
    const link = await withLedger((ledger, config) => issuePrivacyLink(ledger, contactId, config.publicUrl, days));
    if (options.json) return console.log(JSON.stringify(link));
    console.log(link.url);
    console.error(`ledger: the link works until ${link.expiresAt}; send it to the person only`);
  });

const keys = program.command('keys').description('API keys and their roles; the master key');

keys
  .command('create')
  .description('issue an API key; its secret is printed this once (the ledger keeps only its hash)')
  .addOption(new Option('--role <role>', 'what the key may do').choices([...ROLES]).makeOptionMandatory())
  .option('--name <name>', 'a label for who holds it (an opaque label, not personal data)')
  .option('--subscriber <name>', 'role subscriber: the subscriber the key acknowledges erasures for (and only it)')
  .option('--json', 'print the key as JSON: {keyId, role, subscriber?, token}')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { role: Role; name?: string; subscriber?: string; json?: boolean }) => {
    const { role, name, subscriber } = options;
    const issued = await withLedger(
      (ledger) =>
        issueApiKey(ledger, {
          role,
          ...(name !== undefined ? { name } : {}),
          ...(subscriber !== undefined ? { subscriber } : {}),
        }),
      { create: true },
    );
    if (options.json) return console.log(JSON.stringify(issued));
    const holder = issued.subscriber === undefined ? issued.role : `${issued.role} ${issued.subscriber}`;
    console.log(`${issued.keyId} (${holder}): ${issued.token}`);
  });

keys
  .command('list')
  .description('every key issued, with its role and whether it was revoked (never a secret)')
  .option('--json', 'print the list as JSON')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (options: { json?: boolean }) => {
    const listed = await withLedger((ledger) => listApiKeys(ledger));
    if (options.json) return console.log(JSON.stringify(listed));
    for (const key of listed) {
      const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active';
      const role = key.subscriber === null ? key.role : `${key.role}:${key.subscriber}`;
      console.log(`${key.keyId}\t${role}\t${key.name ?? '-'}\tissued ${key.issuedAt}\t${state}`);
    }
  });

keys
  .command('revoke')
  .description('revoke an API key: it stops working at once, on every node')
  .argument('<keyId>', 'the key id (K-…), as keys list shows it')
  .option('--json', 'print the outcome as JSON: {keyId, revoked}')
  .addHelpText('after', environment(LEDGER_ENV))
  .action(async (keyId: string, options: { json?: boolean }) => {
    requireOpaqueIds({ 'key id': keyId });
    const { revoked } = await withLedger((ledger) => revokeApiKey(ledger, keyId));
    if (options.json) return console.log(JSON.stringify({ keyId, revoked }));
    console.log(revoked ? `${keyId} revoked` : `${keyId} was already revoked`);
  });

keys
  .command('rotate-master')
  .description(
    're-wrap every data key under a new master key, while the ledger runs; run it again to resume a cut-off run',
  )
  .requiredOption('--new-key-file <file>', 'the new master key (32 bytes in base64), made beforehand')
  .option(
    '--offline',
    'leave no bridge (the new key wrapped by the old) in the key database: stop every ledger process first; ' +
      'what a leaked key calls for',
  )
  .option('--json', 'print the report as JSON')
  .addHelpText('after', environment([...STORE_ENV, ...MASTER_KEY_ENV]))
  .action(async (options: { newKeyFile: string; offline?: boolean; json?: boolean }) => {
    const file = resolve(options.newKeyFile);
    if (!existsSync(file)) {
      throw new ValidationError(
        `${file} does not exist: make the new key first, e.g. (umask 077; openssl rand -base64 32 > FILE)`,
      );
    }
    const next = MasterKey.fromBase64(readFileSync(file, 'utf8'), file);
    const progress: { bar: ReturnType<typeof progressBar> } = { bar: null };
    const report = await rotateLedgerMasterKey(readConfig(), next, {
      online: options.offline !== true,
      onProgress: (done, total) => (progress.bar ??= progressBar('re-wrapping', total, 'keys'))?.update(done),
    }).finally(() => progress.bar?.stop());
    console.error(
      `ledger: restart every ledger process on the new key (LEDGER_MASTER_KEY_FILE=${file}, or that file in place ` +
        'of the old one); the old key is refused from then on. That first start rebuilds the read models (their ' +
        'e-mail index and row proofs are keyed by the master key); consent links made before stop working',
    );
    if (options.json) return console.log(JSON.stringify(report));
    console.log(
      `${report.resumed ? 'resumed and finished' : 'finished'} the rotation of the master key from ${report.from} ` +
        `to ${report.to}: ${report.rewrapped} keys re-wrapped`,
    );
  });

/**
 * Every failure ends the same way: one line on stderr and a non-zero exit, never a stack trace
 * (LOG_LEVEL=debug adds it, for a bug report). A refusal of the ledger (exit 2) says what to do as
 * the API's problem does, from the same error; with --json, it is that problem document.
 * Exit codes: 1 could not run (configuration, files, database), 2 refused, 3 a verification failed.
 */
function fail(error: unknown): void {
  process.exitCode = error instanceof LedgerError && error.status < 500 ? 2 : 1;
  if (error instanceof LedgerError && process.argv.includes('--json')) {
    return console.error(JSON.stringify(problemOf(error)));
  }
  const message = error instanceof Error ? error.message : String(error);
  const action = error instanceof LedgerError ? error.details['action'] : undefined;
  const line = typeof action === 'string' ? `${message}; ${action}` : message;
  console.error(`ledger: ${line.replace(/\s*\n\s*/g, ' ')}`);
  if (/^(debug|trace)$/.test(process.env['LOG_LEVEL'] ?? '') && error instanceof Error) console.error(error.stack);
}

process.on('uncaughtException', (error) => {
  fail(error);
  process.exit();
});
program.parseAsync().catch(fail);
