'use strict';

// Process plumbing shared by the service launchers, the reaper and the CLI.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

function log(message) {
  // stderr, so that `eval "$(node scripts/services/cli.js start)"` only sees the export lines.
  process.stderr.write(`[services] ${message}\n`);
}

function javaExecutable() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * Starts a JVM in its own process group (detached), so that stopping it can
 * signal the whole group, and so that a Ctrl-C aimed at the test run does not
 * hit it before the test process has had a chance to stop it in order.
 * Its stdout and stderr go to `logFile`.
 */
function spawnJava(args, { logFile, cwd }) {
  const out = fs.openSync(logFile, 'a');
  try {
    const child = spawn(javaExecutable(), args, { cwd, detached: true, stdio: ['ignore', out, out] });
    child.unref();
    return child;
  } finally {
    fs.closeSync(out);
  }
}

/** Runs a short-lived JVM (a tool) to completion; rejects with its output if it fails. */
function runJava(args, { cwd, logFile, description }) {
  return new Promise((resolve, reject) => {
    const child = spawn(javaExecutable(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => reject(explainSpawnError(error)));
    child.on('close', (code) => {
      if (logFile) fs.appendFileSync(logFile, output);
      if (code === 0) resolve(output);
      else reject(new Error(`${description} exited with ${code}${logFile ? ` (output in ${logFile})` : `:\n${output}`}`));
    });
  });
}

function explainSpawnError(error) {
  if (error.code === 'ENOENT') {
    return new Error(`Cannot run ${javaExecutable()}: Java 17 or newer must be installed (or JAVA_HOME set).`);
  }
  return error;
}

/** True while the process exists and is not a zombie waiting to be reaped. */
function isRunning(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  try {
    // The state is the field after the parenthesised command name.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs (macOS): trust kill(0)
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

/**
 * Stops a process started by spawnJava: SIGTERM to its group, then SIGKILL if
 * it has not exited after `graceMs`. The data it holds is thrown away anyway,
 * so there is no point waiting long for a clean shutdown.
 */
async function stopProcessGroup(pid, { graceMs = 5000 } = {}) {
  if (!pid || !isRunning(pid)) return;
  signalGroup(pid, 'SIGTERM');
  if (await waitFor(() => !isRunning(pid), graceMs)) return;
  signalGroup(pid, 'SIGKILL');
  await waitFor(() => !isRunning(pid), 5000);
}

/** The synchronous variant, for process 'exit' handlers, where nothing async runs. */
function killProcessGroupNow(pid) {
  if (pid) signalGroup(pid, 'SIGKILL');
}

function removeDirectory(dir) {
  if (!dir) return;
  if (process.env.TRIBUTARY_KEEP_SERVICE_DIRS === '1') {
    log(`kept ${dir} (TRIBUTARY_KEEP_SERVICE_DIRS=1)`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

async function waitFor(condition, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A port that was free a moment ago. Someone could take it before the service
 * binds it; the service then fails to start and says so in its log, which is
 * rare enough on a test machine not to warrant retries.
 */
function freePort(exclude = []) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => (exclude.includes(port) ? freePort(exclude).then(resolve, reject) : resolve(port)));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port from the environment variable if set (and free), otherwise any free port. */
async function choosePort(envName, exclude = []) {
  const requested = process.env[envName];
  if (!requested) return freePort(exclude);
  const port = Number(requested);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${envName}=${requested} is not a port number.`);
  if (!(await portIsFree(port))) throw new Error(`${envName}=${port}, but port ${port} is already in use on 127.0.0.1.`);
  return port;
}

function tail(file, lines = 60) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function elapsedSeconds(startedAt) {
  return ((Date.now() - startedAt) / 1000).toFixed(1);
}

module.exports = {
  log,
  spawnJava,
  runJava,
  explainSpawnError,
  isRunning,
  stopProcessGroup,
  killProcessGroupNow,
  removeDirectory,
  waitFor,
  sleep,
  freePort,
  choosePort,
  tail,
  elapsedSeconds,
};
