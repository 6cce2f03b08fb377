import { expect } from 'chai';
import { InvalidOptionError } from '@tributary/core';
import { Instrumentation } from '@tributary/kafka';

interface TestEvents {
  'test.happened': { n: number };
}

describe('Instrumentation', () => {
  it('calls each listener with the payload, built only when someone listens', () => {
    const instrumentation = new Instrumentation<TestEvents>(['test.happened']);
    let built = 0;
    instrumentation.emit('test.happened', () => ({ n: (built += 1) }));
    expect(built).to.equal(0);
    const seen: number[] = [];
    instrumentation.on('test.happened', ({ n }) => seen.push(n));
    instrumentation.emit('test.happened', () => ({ n: (built += 1) }));
    expect(seen).to.deep.equal([1]);
  });

  it('rejects an unknown event name', () => {
    const instrumentation = new Instrumentation<TestEvents>(['test.happened']);
    expect(() => instrumentation.on('test.unknown' as 'test.happened', () => undefined)).to.throw(InvalidOptionError, /known events: test.happened/);
  });

  it('unsubscribes once: calling the unsubscribe function again removes no other listener', () => {
    const instrumentation = new Instrumentation<TestEvents>(['test.happened']);
    const calls: string[] = [];
    const unsubscribe = instrumentation.on('test.happened', () => calls.push('first'));
    instrumentation.on('test.happened', () => calls.push('second'));
    instrumentation.on('test.happened', () => calls.push('third'));
    unsubscribe();
    unsubscribe();
    instrumentation.emit('test.happened', () => ({ n: 1 }));
    expect(calls).to.deep.equal(['second', 'third']);
    expect(instrumentation.listened('test.happened')).to.equal(true);
  });

  it('removes only its own subscription when one listener is subscribed twice', () => {
    const instrumentation = new Instrumentation<TestEvents>(['test.happened']);
    let calls = 0;
    const listener = () => (calls += 1);
    const unsubscribeFirst = instrumentation.on('test.happened', listener);
    instrumentation.on('test.happened', listener);
    unsubscribeFirst();
    unsubscribeFirst();
    instrumentation.emit('test.happened', () => ({ n: 1 }));
    expect(calls).to.equal(1);
  });
});
