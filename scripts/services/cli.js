#!/usr/bin/env node
'use strict';

// Keeps Kafka and the schema registry running between test runs.
//
//   eval "$(node scripts/services/cli.js start)"   # starts both (or finds them running), exports their addresses
//   npm test                                      # uses them instead of starting its own
//   node scripts/services/cli.js status
//   node scripts/services/cli.js stop
//   node scripts/services/cli.js fetch            # only download into .cache/ (CI does this before the tests)

const fs = require('node:fs');
const path = require('node:path');
const { startServices, fetchServices } = require('./index');
const { REPO_ROOT } = require('./fetch');
const { log, isRunning, stopProcessGroup, removeDirectory } = require('./processes');

const STATE_FILE = path.join(REPO_ROOT, '.services', 'state.json');

const commands = {
  async fetch() {
    await fetchServices();
  },

  async start() {
    const state = readState();
    if (state && allRunning(state)) {
      log('already running');
    } else {
      if (state) await stopAll(state); // half dead: start afresh
      const services = await startServices({ env: {}, outliveThisProcess: true });
      const describe = ({ version, pid, runDir, logFile }) => ({ version, pid, runDir, logFile });
      writeState({
        kafka: { ...describe(services.started.kafka), brokers: services.kafkaBrokers },
        schemaRegistry: { ...describe(services.started.schemaRegistry), url: services.schemaRegistryUrl },
      });
    }
    printExports(readState());
    if (process.stdout.isTTY) log('run this command inside eval "$(...)" to export these into your shell');
  },

  async status() {
    const state = readState();
    if (!state) {
      log('not running (no .services/state.json)');
      return 1;
    }
    const line = (name, service, address) =>
      `${name} ${service.version}: ${isRunning(service.pid) ? 'running' : 'NOT running'} at ${address} (pid ${service.pid}, log ${service.logFile})`;
    log(line('kafka', state.kafka, state.kafka.brokers));
    log(line('schema registry (apicurio)', state.schemaRegistry, state.schemaRegistry.url));
    printExports(state);
    return allRunning(state) ? 0 : 1;
  },

  async stop() {
    const state = readState();
    if (!state) {
      log('not running');
      return;
    }
    await stopAll(state);
    log('stopped');
  },
};

function allRunning(state) {
  return isRunning(state.kafka.pid) && isRunning(state.schemaRegistry.pid);
}

async function stopAll(state) {
  await Promise.all(
    [state.kafka, state.schemaRegistry].map(async (service) => {
      await stopProcessGroup(service.pid);
      removeDirectory(service.runDir);
    }),
  );
  fs.rmSync(STATE_FILE, { force: true });
}

function printExports(state) {
  process.stdout.write(`export KAFKA_BROKERS=${state.kafka.brokers}\n`);
  process.stdout.write(`export SCHEMA_REGISTRY_URL=${state.schemaRegistry.url}\n`);
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

function writeState(state) {
  fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

async function main() {
  const name = process.argv[2];
  const command = commands[name];
  if (!command) {
    process.stderr.write('usage: node scripts/services/cli.js start|stop|status|fetch\n');
    return 2;
  }
  return (await command()) || 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`[services] ${error.stack || error}\n`);
    process.exit(1);
  },
);
