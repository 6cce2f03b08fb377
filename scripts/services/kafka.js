'use strict';

// A single-node KRaft Kafka broker (broker and controller in one JVM) for tests.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fetchKafka } = require('./fetch');
const {
  log,
  spawnJava,
  runJava,
  explainSpawnError,
  isRunning,
  stopProcessGroup,
  removeDirectory,
  choosePort,
  freePort,
  sleep,
  tail,
  elapsedSeconds,
} = require('./processes');

const READY_TIMEOUT_MS = 90_000;
const HEAP = ['-Xms256m', '-Xmx1g'];

/**
 * Broker settings. Everything not listed keeps Kafka's default, so that tests
 * see the behaviour a production cluster has.
 */
function brokerConfig({ brokerPort, controllerPort, dataDir }) {
  return {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    'listeners': `PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${brokerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,

    // One node: every internal topic must make do with one replica.
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    // Fewer partitions than the default 50 make the first consumer group and
    // the first transactional producer of a run start faster.
    'offsets.topic.num.partitions': '5',
    'transaction.state.log.num.partitions': '5',

    // Topics are created on purpose, never by a producer or consumer naming a
    // missing one: an events topic born with the default `delete` policy and
    // 7-day retention is exactly the history-losing mistake Tributary must refuse.
    'auto.create.topics.enable': 'false',

    // Tests should not wait for things that production tunes for large groups.
    'group.initial.rebalance.delay.ms': '0',
    // Lets tests use short consumer session timeouts to provoke rebalances quickly.
    'group.min.session.timeout.ms': '1000',
    // Transactions that exceed their timeout are aborted within a second, not ten.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000',
    // The cleaner looks for compactable logs every second, not every 15 s, so
    // compaction tests (with topic-level segment.ms / min.cleanable.dirty.ratio) finish quickly.
    'log.cleaner.backoff.ms': '1000',
  };
}

/**
 * Starts a broker on 127.0.0.1 with its data in a fresh temp folder.
 * `guard(pid, runDir)`, if given, runs as soon as the JVM exists (before it is
 * ready), so that the caller can arrange for its death should the caller die
 * first; it returns a function that dismisses that arrangement, which `stop()` calls.
 * Resolves with `{ version, brokers, pid, runDir, logFile, stop() }`.
 */
async function startKafka({ guard } = {}) {
  const { version, libsDir } = await fetchKafka();
  const startedAt = Date.now();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-kafka-'));
  const logFile = path.join(runDir, 'server.log');
  const outFile = path.join(runDir, 'kafka.out');
  let pid;
  let releaseGuard = () => {};
  const stop = async () => {
    await stopProcessGroup(pid);
    removeDirectory(runDir);
    releaseGuard();
  };

  try {
    const brokerPort = await choosePort('TRIBUTARY_KAFKA_PORT');
    const controllerPort = await freePort([brokerPort]);
    const configFile = path.join(runDir, 'server.properties');
    const config = brokerConfig({ brokerPort, controllerPort, dataDir: path.join(runDir, 'data') });
    fs.writeFileSync(configFile, Object.entries(config).map(([key, value]) => `${key}=${value}\n`).join(''));

    const jvm = [
      '-cp',
      path.join(libsDir, '*'),
      `-Dlog4j2.configurationFile=${path.join(__dirname, 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${runDir}`,
      '-Djava.awt.headless=true',
    ];
    await runJava(
      [...jvm, '-Xmx256m', '-XX:TieredStopAtLevel=1', 'kafka.tools.StorageTool', 'format', '--cluster-id', clusterId(), '--config', configFile],
      { cwd: runDir, logFile: outFile, description: 'kafka-storage format' },
    );

    const child = spawnJava(
      [...jvm, ...HEAP, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', 'kafka.Kafka', configFile],
      { cwd: runDir, logFile: outFile },
    );
    const spawnFailure = new Promise((_, reject) => child.once('error', (error) => reject(explainSpawnError(error))));
    spawnFailure.catch(() => {});
    pid = child.pid;
    if (pid && guard) releaseGuard = guard(pid, runDir);

    const brokers = `127.0.0.1:${brokerPort}`;
    await Promise.race([spawnFailure, waitUntilReady(brokers, pid)]);
    log(`kafka ${version} started on ${brokers} in ${elapsedSeconds(startedAt)} s (log: ${logFile})`);
    return { version, brokers, pid, runDir, logFile, stop };
  } catch (error) {
    log(`kafka ${version} failed to start: ${error.message}`);
    log(`--- tail of ${outFile} ---\n${tail(outFile, 20)}`);
    log(`--- tail of ${logFile} ---\n${tail(logFile)}`);
    await stop();
    throw error;
  }
}

/** A cluster id as `kafka-storage random-uuid` makes it: 16 random bytes, base64url. */
function clusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    // The storage tool would read a leading '-' as an option.
    if (!id.startsWith('-')) return id;
  }
}

/** Ready means that a kafkajs admin client (what the tests use) gets an answer. */
async function waitUntilReady(brokers, pid) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'tributary-services',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) throw new Error('the broker process exited');
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(250);
  }
  throw new Error(`no answer from ${brokers} within ${READY_TIMEOUT_MS / 1000} s (last error: ${lastError && lastError.message})`);
}

module.exports = { startKafka, brokerConfig };
