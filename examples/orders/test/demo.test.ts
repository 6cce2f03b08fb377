import { expect } from 'chai';
import { expectDemoReadModels, expectDemoStory, runDemo } from './demo-output';

describe('the orders demo (npm run demo)', () => {
  it('prints the outcome of each command, the event log, the rebuilt state and the read models, with no Kafka', async () => {
    const stdout = await runDemo(undefined);
    expect(stdout).to.contain('Event store: embedded, in memory');
    expectDemoStory(stdout, /^ {2}#\d+ Order\/order-1001 seq \d+ /);
    // The temporal query: after the removal (seq 4), before the submission (seq 5).
    expect(stdout).to.contain('As of version 4: open, 1 item(s), 4350 cents');
    // Projected from the in-memory log into PostgreSQL and Redis if they answer; skipped, saying so, if not.
    expectDemoReadModels(stdout, false);
  });
});
