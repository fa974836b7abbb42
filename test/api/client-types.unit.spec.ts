import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { GENERATED, generatedFiles } from '../../scripts/openapi.js';

/**
 * The client's committed document and types are what `npm run openapi` writes from the route table
 * now: a route changed without regenerating fails here, before a client ships with stale types.
 */
describe('contact-ledger/client: the committed API document and its generated types', function () {
  this.timeout(60_000);
  let generated: Awaited<ReturnType<typeof generatedFiles>>;
  before(async () => {
    generated = await generatedFiles();
  });

  for (const name of ['document', 'types'] as const) {
    it(`${GENERATED[name]} is up to date (else: npm run openapi, and commit it)`, () => {
      const committed = readFileSync(new URL(`../../${GENERATED[name]}`, import.meta.url), 'utf8');
      expect(committed === generated[name], `${GENERATED[name]} is stale: run npm run openapi`).to.equal(true);
    });
  }
});
