import { expect } from 'chai';
import { expectDemoStory, runDemo } from './demo-output';

describe('the orders demo (npm run demo)', () => {
  it('prints the outcome of each command, the event log and the rebuilt state, with no Kafka', async () => {
    const stdout = await runDemo(undefined);
    expect(stdout).to.contain('Event store: embedded, in memory');
    expectDemoStory(stdout, /^ {2}#\d+ Order\/order-1001 seq \d+ /);
  });
});
