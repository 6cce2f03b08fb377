'use strict';

// Mocha global fixtures (load with `--require test-support/global-fixtures.js`).
// When the run includes integration tests (*.int.test.ts) and the environment
// does not already point at the services, start a real Kafka broker and schema
// registry for the run and export KAFKA_BROKERS / SCHEMA_REGISTRY_URL to it.
//
// TRIBUTARY_SKIP_SERVICES=1 never starts anything (the integration tests then
// fail with a message saying what is missing).

const INTEGRATION_TEST_FILE = /\.int\.test\.[cm]?[jt]sx?$/;
const SERVICE_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL'];

let services;
let environmentBefore;

/** @this {import('mocha').Runner | object} mocha passes its runner as `this`. */
exports.mochaGlobalSetup = async function mochaGlobalSetup() {
  if (process.env.TRIBUTARY_SKIP_SERVICES === '1') return;
  const given = SERVICE_VARIABLES.filter((name) => process.env[name]);
  for (const name of given) process.stderr.write(`[services] using ${name}=${process.env[name]}\n`);
  if (given.length === SERVICE_VARIABLES.length) return;
  if (!mayRunIntegrationTests(this)) return;

  const { startServices } = require('../scripts/services');
  services = await startServices();
  environmentBefore = Object.fromEntries(SERVICE_VARIABLES.map((name) => [name, process.env[name]]));
  // Set before any test runs; parallel-mode workers are forked later and inherit them.
  process.env.KAFKA_BROKERS = services.kafkaBrokers;
  process.env.SCHEMA_REGISTRY_URL = services.schemaRegistryUrl;
};

exports.mochaGlobalTeardown = async function mochaGlobalTeardown() {
  if (!services) return;
  const running = services;
  services = undefined;
  for (const [name, value] of Object.entries(environmentBefore)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await running.stop();
};

/**
 * In a serial run mocha has loaded every spec file before global setup, so the
 * suite tree tells whether an integration test is among them. In parallel mode
 * (or watch mode) the files load elsewhere, later; then assume they may be.
 */
function mayRunIntegrationTests(runner) {
  const canSeeSuites =
    runner && runner.suite && !(typeof runner.isParallelMode === 'function' && runner.isParallelMode());
  if (!canSeeSuites) return true;
  return containsIntegrationTest(runner.suite);
}

function containsIntegrationTest(suite) {
  return (
    suite.tests.some((test) => INTEGRATION_TEST_FILE.test(test.file || '')) ||
    suite.suites.some((child) => containsIntegrationTest(child))
  );
}
