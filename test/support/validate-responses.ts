/**
 * Mocha root hook module (.mocharc*.json `require`): every API the tests start, in process or as a
 * `ledger serve` child (which inherits the environment), checks each answer against its route's
 * schema in the API document before sending it (src/api/wiring.ts): the document cannot drift.
 * test/support/http.ts and server.ts set it as well, for runs with --no-config.
 */
process.env['LEDGER_VALIDATE_RESPONSES'] = '1';

export const mochaHooks = {};
