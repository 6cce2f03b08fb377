'use strict';

// Stops one service when the process that started it dies without stopping it
// (SIGKILL, a crash, Ctrl-C during start-up), so no broker outlives its test run.
//
//   node reaper.js <pid> <runDir>
//
// The starter keeps our stdin open. The kernel closes it when the starter
// exits, however it exits; that end-of-file is the signal. A starter that
// stops the service itself kills this process first.

const { stopProcessGroup, removeDirectory } = require('./processes');

const [pid, runDir] = [Number(process.argv[2]), process.argv[3]];
let reaping = false;

async function reap() {
  if (reaping) return;
  reaping = true;
  try {
    await stopProcessGroup(pid);
    removeDirectory(runDir);
  } finally {
    process.exit(0);
  }
}

process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
process.stdin.resume();
