'use strict';

// Apicurio Registry with in-memory storage, serving the Confluent-compatible API tests use.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fetchSchemaRegistry } = require('./fetch');
const {
  log,
  spawnJava,
  explainSpawnError,
  isRunning,
  stopProcessGroup,
  removeDirectory,
  choosePort,
  sleep,
  tail,
  elapsedSeconds,
} = require('./processes');

const READY_TIMEOUT_MS = 90_000;
const CONFLUENT_API = '/apis/ccompat/v7';

/** Quarkus / Apicurio settings, passed as system properties. */
function registryConfig({ port }) {
  return {
    'quarkus.http.host': '127.0.0.1',
    'quarkus.http.port': String(port),
    // H2 in memory: every start is a blank registry, and stop leaves nothing behind.
    'apicurio.storage.kind': 'sql',
    'apicurio.storage.sql.kind': 'h2',
    // The default pool opens 20 connections at start-up; a test registry needs a few.
    'apicurio.datasource.jdbc.initial-size': '2',
    'apicurio.datasource.jdbc.min-size': '2',
    // Erasure tests delete subjects and versions.
    'apicurio.rest.deletion.artifact.enabled': 'true',
    'apicurio.rest.deletion.artifact-version.enabled': 'true',
    'apicurio.rest.deletion.group.enabled': 'true',
    'quarkus.http.access-log.enabled': 'false',
  };
}

/**
 * Starts the registry on 127.0.0.1. `guard` as for startKafka.
 * Resolves with `{ version, url, pid, runDir, logFile, stop() }`, where `url`
 * is the Confluent-compatible base, e.g. http://127.0.0.1:PORT/apis/ccompat/v7.
 */
async function startSchemaRegistry({ guard } = {}) {
  const { version, launcherJar } = await fetchSchemaRegistry();
  const startedAt = Date.now();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-schema-registry-'));
  const logFile = path.join(runDir, 'registry.log');
  let pid;
  let releaseGuard = () => {};
  const stop = async () => {
    await stopProcessGroup(pid);
    removeDirectory(runDir);
    releaseGuard();
  };

  try {
    const port = await choosePort('TRIBUTARY_SCHEMA_REGISTRY_PORT');
    const properties = Object.entries(registryConfig({ port })).map(([key, value]) => `-D${key}=${value}`);
    const child = spawnJava(
      ['-Xms128m', '-Xmx512m', '-XX:+ExitOnOutOfMemoryError', `-Djava.io.tmpdir=${runDir}`, ...properties, '-jar', launcherJar],
      { cwd: runDir, logFile },
    );
    const spawnFailure = new Promise((_, reject) => child.once('error', (error) => reject(explainSpawnError(error))));
    spawnFailure.catch(() => {});
    pid = child.pid;
    if (pid && guard) releaseGuard = guard(pid, runDir);

    const url = `http://127.0.0.1:${port}${CONFLUENT_API}`;
    await Promise.race([spawnFailure, waitUntilReady(url, pid)]);
    log(`schema registry (apicurio ${version}) started at ${url} in ${elapsedSeconds(startedAt)} s (log: ${logFile})`);
    return { version, url, pid, runDir, logFile, stop };
  } catch (error) {
    log(`schema registry (apicurio ${version}) failed to start: ${error.message}`);
    log(`--- tail of ${logFile} ---\n${tail(logFile)}`);
    await stop();
    throw error;
  }
}

/** Ready means the Confluent API lists subjects, i.e. storage is up too. */
async function waitUntilReady(url, pid) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) throw new Error('the registry process exited');
    try {
      const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  throw new Error(`no answer from ${url}/subjects within ${READY_TIMEOUT_MS / 1000} s (last error: ${lastError && lastError.message})`);
}

module.exports = { startSchemaRegistry };
