import { expect } from 'chai';
import { stopOnSignals } from '../src/stop-on-signals';

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Workers stopped on process signals (processors and runners alike)', () => {
  let kills: Array<string | number | undefined>;
  const realKill = process.kill;

  beforeEach(() => {
    // With nobody else listening, the signal takes its course once the stops are done: the process ends. Not this one.
    kills = [];
    process.kill = ((pid: number, signal?: string | number) => {
      expect(pid).to.equal(process.pid);
      kills.push(signal);
      return true;
    }) as typeof process.kill;
    expect(process.listenerCount('SIGTERM'), 'the test needs SIGTERM to itself').to.equal(0);
  });

  afterEach(() => {
    process.kill = realKill;
  });

  it('stops every worker of the process on SIGTERM, and lets the process end only once the last one has stopped', async () => {
    const stops = [deferred(), deferred()];
    const stopping: number[] = [];
    stopOnSignals(async () => {
      stopping.push(0);
      await stops[0].promise;
    });
    stopOnSignals(async () => {
      stopping.push(1);
      await stops[1].promise;
    });

    process.emit('SIGTERM');
    expect(stopping).to.deep.equal([0, 1]);
    expect(process.listenerCount('SIGTERM')).to.equal(0);
    stops[0].resolve();
    await settle();
    expect(kills, 'another runner is still leaving its group').to.deep.equal([]);
    stops[1].resolve();
    for (let turn = 0; turn < 10 && kills.length === 0; turn += 1) await settle();
    expect(kills).to.deep.equal(['SIGTERM']);
  });

  it('removes the handlers when the last worker stops another way, and adds them again for a worker started later', async () => {
    let stopped = 0;
    const first = stopOnSignals(async () => void (stopped += 1));
    const second = stopOnSignals(async () => void (stopped += 1));
    first();
    expect(process.listenerCount('SIGINT')).to.equal(1);
    second();
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).to.deep.equal([0, 0]);

    const later = stopOnSignals(async () => void (stopped += 1));
    expect(process.listenerCount('SIGTERM')).to.equal(1);
    process.emit('SIGTERM');
    for (let turn = 0; turn < 10 && kills.length === 0; turn += 1) await settle();
    expect(stopped, 'only the runner still registered').to.equal(1);
    expect(kills).to.deep.equal(['SIGTERM']);
    later(); // stopping after the signal is harmless
    expect(process.listenerCount('SIGTERM')).to.equal(0);
  });
});
