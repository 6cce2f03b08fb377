'use strict';

/**
 * Starts the services integration tests need: an Apache Kafka broker and an
 * Apicurio schema registry (Confluent-compatible API), each only when the
 * environment does not already point at one (KAFKA_BROKERS, SCHEMA_REGISTRY_URL).
 *
 *   const services = await startServices();
 *   process.env.KAFKA_BROKERS = services.kafkaBrokers;             // 127.0.0.1:PORT
 *   process.env.SCHEMA_REGISTRY_URL = services.schemaRegistryUrl;  // http://127.0.0.1:PORT/apis/ccompat/v7
 *   ...
 *   await services.stop();
 *
 * See README.md in this folder.
 */

const path = require('node:path');
const { spawn } = require('node:child_process');
const { startKafka } = require('./kafka');
const { startSchemaRegistry } = require('./schema-registry');
const { fetchKafka, fetchSchemaRegistry } = require('./fetch');
const { killProcessGroupNow } = require('./processes');

/**
 * @param {object} [options]
 * @param {Record<string, string | undefined>} [options.env] where KAFKA_BROKERS / SCHEMA_REGISTRY_URL are looked up
 * @param {boolean} [options.outliveThisProcess] leave the services running when this process exits (the CLI's `start`)
 * @returns {Promise<{ kafkaBrokers: string, schemaRegistryUrl: string, started: { kafka?: object, schemaRegistry?: object }, stop(): Promise<void> }>}
 */
async function startServices({ env = process.env, outliveThisProcess = false } = {}) {
  const guard = outliveThisProcess ? undefined : stopWhenThisProcessDies;
  // Both JVMs start at once: together they take little longer than the slower one.
  const [kafka, schemaRegistry] = await Promise.allSettled([
    env.KAFKA_BROKERS ? undefined : startKafka({ guard }),
    env.SCHEMA_REGISTRY_URL ? undefined : startSchemaRegistry({ guard }),
  ]);
  const started = {
    kafka: kafka.status === 'fulfilled' ? kafka.value : undefined,
    schemaRegistry: schemaRegistry.status === 'fulfilled' ? schemaRegistry.value : undefined,
  };
  const stop = async () => {
    await Promise.all(Object.values(started).map((service) => service && service.stop()));
  };
  const failure = [kafka, schemaRegistry].find((result) => result.status === 'rejected');
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return {
    kafkaBrokers: env.KAFKA_BROKERS || started.kafka.brokers,
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL || started.schemaRegistry.url,
    started,
    stop,
  };
}

/** Downloads both services into .cache/ without starting them (CI's `fetch` step). */
async function fetchServices() {
  await Promise.all([fetchKafka(), fetchSchemaRegistry()]);
}

/**
 * Makes the service with this pid die with this process: at once on a normal
 * exit, and through a detached reaper (see reaper.js) when this process is
 * killed without running its exit handlers. Returns the function that dismisses both.
 */
function stopWhenThisProcessDies(pid, runDir) {
  const reaper = spawn(process.execPath, [path.join(__dirname, 'reaper.js'), String(pid), runDir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the reaper nor the pipe to it may keep the test run alive.
  reaper.unref();
  reaper.stdin.unref();
  const killOnExit = () => killProcessGroupNow(pid);
  process.on('exit', killOnExit);
  return () => {
    process.off('exit', killOnExit);
    reaper.kill();
  };
}

module.exports = { startServices, fetchServices };
