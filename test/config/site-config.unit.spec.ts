import { expect } from 'chai';
import { readConfig } from '../../src/config.js';

/** LEDGER_PUBLIC_URL, LEDGER_INSTITUTION_NAME, LEDGER_PRIVACY_POLICY_URL: read once, a bad value refuses the start. */
describe('configuration of the person’s pages (the public URL, the institution)', () => {
  const read = (env: NodeJS.ProcessEnv) => readConfig({ LEDGER_DATA_DIR: '/tmp/ledger-config-spec', ...env });

  it('defaults to http://localhost on the serve port, and to no institution name nor policy', () => {
    const config = read({});
    expect(config.publicUrl).to.equal('http://localhost:8080');
    expect(config.institution).to.deep.equal({ name: null, privacyPolicyUrl: null });
    expect(read({ PORT: '9090' }).publicUrl).to.equal('http://localhost:9090');
    expect(read({ LEDGER_INSTITUTION_NAME: '' }).institution.name).to.equal(null);
    expect(read({ LEDGER_INSTITUTION_NAME: '   ' }).institution.name).to.equal(null);
  });

  const accepted: Array<[string, NodeJS.ProcessEnv, (config: ReturnType<typeof read>) => unknown, unknown]> = [
    [
      'an https origin, its trailing slash dropped',
      { LEDGER_PUBLIC_URL: 'https://privacy.example.org/' },
      (c) => c.publicUrl,
      'https://privacy.example.org',
    ],
    [
      'an origin with a port and a path, normalised',
      { LEDGER_PUBLIC_URL: 'https://Privacy.Example.org:8443/ledger/' },
      (c) => c.publicUrl,
      'https://privacy.example.org:8443/ledger',
    ],
    [
      'an http origin (behind a proxy, or in development)',
      { LEDGER_PUBLIC_URL: 'http://127.0.0.1:3000' },
      (c) => c.publicUrl,
      'http://127.0.0.1:3000',
    ],
    [
      'an https policy page, with its anchor',
      { LEDGER_PRIVACY_POLICY_URL: 'https://example.org/privacy#contact' },
      (c) => c.institution.privacyPolicyUrl,
      'https://example.org/privacy#contact',
    ],
    [
      'an http policy page on localhost',
      { LEDGER_PRIVACY_POLICY_URL: 'http://localhost:3000/privacy' },
      (c) => c.institution.privacyPolicyUrl,
      'http://localhost:3000/privacy',
    ],
    [
      'a name, trimmed',
      { LEDGER_INSTITUTION_NAME: '  Théâtre du Rond-Point ' },
      (c) => c.institution.name,
      'Théâtre du Rond-Point',
    ],
  ];
  for (const [what, env, pick, expected] of accepted) {
    it(`accepts ${what}`, () => expect(pick(read(env))).to.equal(expected));
  }

  const refused: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    [
      'a public URL that is no URL',
      { LEDGER_PUBLIC_URL: 'privacy.example.org' },
      /^LEDGER_PUBLIC_URL must be .*: it is not a URL$/,
    ],
    [
      'a public URL that is not http(s)',
      { LEDGER_PUBLIC_URL: 'ftp://privacy.example.org' },
      /LEDGER_PUBLIC_URL .*ftp: is not http\(s\)/,
    ],
    [
      'a javascript: public URL',
      { LEDGER_PUBLIC_URL: 'javascript:alert(1)' },
      /LEDGER_PUBLIC_URL .*javascript: is not http\(s\)/,
    ],
    [
      'a public URL with a query',
      { LEDGER_PUBLIC_URL: 'https://privacy.example.org/?from=mail' },
      /LEDGER_PUBLIC_URL .*a query/,
    ],
    [
      'a public URL with an empty query',
      { LEDGER_PUBLIC_URL: 'https://privacy.example.org?' },
      /LEDGER_PUBLIC_URL .*a query/,
    ],
    [
      'a public URL with a fragment',
      { LEDGER_PUBLIC_URL: 'https://privacy.example.org/#top' },
      /LEDGER_PUBLIC_URL .*a fragment/,
    ],
    [
      'a public URL with a password',
      { LEDGER_PUBLIC_URL: 'https://admin:s3cret@privacy.example.org' },
      /LEDGER_PUBLIC_URL .*user name or password/,
    ],
    [
      'an http policy page elsewhere than localhost',
      { LEDGER_PRIVACY_POLICY_URL: 'http://example.org/privacy' },
      /^LEDGER_PRIVACY_POLICY_URL must be an https:\/\/ URL \(.*\): http:\/\/example.org is neither$/,
    ],
    [
      'an http policy page on a loopback address',
      { LEDGER_PRIVACY_POLICY_URL: 'http://127.0.0.1/privacy' },
      /LEDGER_PRIVACY_POLICY_URL must be an https/,
    ],
    [
      'a mailto: policy',
      { LEDGER_PRIVACY_POLICY_URL: 'mailto:dpo@example.org' },
      /LEDGER_PRIVACY_POLICY_URL must be an https/,
    ],
    [
      'a policy that is no URL',
      { LEDGER_PRIVACY_POLICY_URL: 'our privacy policy' },
      /LEDGER_PRIVACY_POLICY_URL .*it is not a URL/,
    ],
    [
      'a policy URL with a password',
      { LEDGER_PRIVACY_POLICY_URL: 'https://u:s3cret@example.org/p' },
      /LEDGER_PRIVACY_POLICY_URL .*user name or password/,
    ],
    [
      'a name of 201 characters',
      { LEDGER_INSTITUTION_NAME: 'a'.repeat(201) },
      /^LEDGER_INSTITUTION_NAME must be one line of text of at most 200 characters: it has 201$/,
    ],
    [
      'a name of two lines',
      { LEDGER_INSTITUTION_NAME: 'Opéra\nde Lyon' },
      /LEDGER_INSTITUTION_NAME .*a control character/,
    ],
  ];
  for (const [what, env, message] of refused) {
    it(`refuses ${what}, naming the variable and never a secret it holds`, () => {
      expect(() => read(env)).to.throw(message);
      try {
        read(env);
      } catch (error) {
        expect((error as Error).message).not.to.include('s3cret');
      }
    });
  }
});
