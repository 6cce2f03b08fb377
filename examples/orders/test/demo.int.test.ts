import { expect } from 'chai';
import { kafkaBrokers } from '../../../test-support/integration';
import { expectDemoReadModels, expectDemoStory, runDemo } from './demo-output';

describe('the orders demo on Kafka (KAFKA_BROKERS=… npm run demo)', function () {
  this.timeout(120_000);

  it('runs on two command processors, reads the event log back from the events topic, and projects it with two runners', async () => {
    const stdout = await runDemo(kafkaBrokers().join(','));
    expect(stdout).to.match(/Event store: Kafka at /);
    const owned = [...stdout.matchAll(/Processor \d owns command partitions \[([\d, ]*)\]/g)].map((match) => match[1].split(', ').filter(Boolean));
    expect(owned, 'two processors').to.have.length(2);
    expect(owned.flat().sort(), 'sharing the four partitions').to.deep.equal(['0', '1', '2', '3']);
    expectDemoStory(stdout, /^ {2}p\d+@\d+ Order\/order-1001 seq \d+ /);
    expect(stdout).to.match(/Projection order-summary runs in consumer group orders-demo-\w+\.projection\.order-summary\n/);
    expect(stdout).to.match(/Projection customer-orders runs in consumer group orders-demo-\w+\.projection\.customer-orders\n/);
    expectDemoReadModels(stdout, true);
  });
});
