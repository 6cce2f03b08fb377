'use strict';

// Downloads Kafka and Apicurio with Maven (see pom.xml) into .cache/, once per version.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { log, elapsedSeconds } = require('./processes');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const POM = path.join(__dirname, 'pom.xml');
const CACHE_DIR = process.env.TRIBUTARY_CACHE_DIR || path.join(REPO_ROOT, '.cache');

/**
 * The versions pinned in pom.xml. TRIBUTARY_KAFKA_VERSION and
 * TRIBUTARY_APICURIO_VERSION override them, to try another version without
 * editing the pom.
 */
function pinnedVersions() {
  const pom = fs.readFileSync(POM, 'utf8');
  const property = (name) => {
    const match = pom.match(new RegExp(`<${name.replace('.', '\\.')}>([^<]+)</`));
    if (!match) throw new Error(`${POM} has no <${name}> property.`);
    return match[1].trim();
  };
  return {
    kafka: process.env.TRIBUTARY_KAFKA_VERSION || property('kafka.version'),
    apicurio: process.env.TRIBUTARY_APICURIO_VERSION || property('apicurio.version'),
  };
}

/** Kafka's jars, with a log4j2 backend: `{ version, libsDir }`. */
async function fetchKafka(version = pinnedVersions().kafka) {
  const dir = path.join(CACHE_DIR, `kafka-${version}`);
  const isComplete = (root) => fs.existsSync(path.join(root, 'libs', `kafka_2.13-${version}.jar`));
  await fetchOnce(`kafka ${version}`, dir, isComplete, (partial) =>
    maven(['dependency:copy-dependencies', `-Dkafka.version=${version}`, `-Dkafka.libs=${path.join(partial, 'libs')}`]),
  );
  return { version, libsDir: path.join(dir, 'libs') };
}

/** The unpacked Apicurio Registry distribution: `{ version, dir, launcherJar }`. */
async function fetchSchemaRegistry(version = pinnedVersions().apicurio) {
  const dir = path.join(CACHE_DIR, `apicurio-${version}`);
  await fetchOnce(`apicurio registry ${version}`, dir, (root) => findLauncherJar(root) !== undefined, (partial) =>
    maven(['dependency:unpack@apicurio', `-Dapicurio.version=${version}`, `-Dapicurio.dir=${partial}`]),
  );
  return { version, dir, launcherJar: findLauncherJar(dir) };
}

/**
 * Fills `dir` through a scratch folder renamed into place at the end, so that
 * an interrupted download never looks like a cached one, and two runs fetching
 * at once do not trip over each other.
 */
async function fetchOnce(what, dir, isComplete, download) {
  if (isComplete(dir)) return;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  const startedAt = Date.now();
  log(`fetching ${what} from Maven Central into ${displayPath(dir)} ...`);
  try {
    await download(partial);
    if (!isComplete(partial)) throw new Error(`Maven finished, but ${partial} does not hold ${what}.`);
    try {
      fs.renameSync(partial, dir);
    } catch (error) {
      if (isComplete(dir)) return; // a concurrent fetch won the race
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      fs.rmSync(dir, { recursive: true, force: true }); // an incomplete leftover
      fs.renameSync(partial, dir);
    }
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  log(`fetched ${what} in ${elapsedSeconds(startedAt)} s`);
}

function displayPath(dir) {
  const relative = path.relative(REPO_ROOT, dir);
  return relative.startsWith('..') ? dir : relative;
}

/** The jar to `java -jar`: Quarkus' fast-jar `quarkus-run.jar` or a legacy `*-runner.jar`. */
function findLauncherJar(root, depth = 2) {
  let entries;
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const jar = entries.find((e) => e.isFile() && (e.name === 'quarkus-run.jar' || e.name.endsWith('-runner.jar')));
  if (jar) return path.join(root, jar.name);
  if (depth === 0) return undefined;
  for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'))) {
    const found = findLauncherJar(path.join(root, entry.name), depth - 1);
    if (found) return found;
  }
  return undefined;
}

function maven(args) {
  const command = process.env.MAVEN_CMD || 'mvn';
  const fullArgs = ['-B', '-q', '--no-transfer-progress', '-f', POM, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) =>
      reject(error.code === 'ENOENT' ? new Error(`Cannot run ${command}: Maven 3.8+ must be installed (or MAVEN_CMD set).`) : error),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      // -B keeps colour codes out, but older Mavens still emit some; strip them for a readable error.
      else reject(new Error(`${command} ${fullArgs.join(' ')} failed (exit ${code}):\n${output.replace(/\x1b\[[0-9;]*m/g, '')}`));
    });
  });
}

module.exports = { REPO_ROOT, CACHE_DIR, pinnedVersions, fetchKafka, fetchSchemaRegistry };
