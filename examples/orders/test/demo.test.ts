import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

describe('the orders demo (npm run demo)', () => {
  it('prints the outcome of each command, the event log and the rebuilt state, with no Kafka', async () => {
    const env = { ...process.env };
    delete env.KAFKA_BROKERS;
    const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], { env });
    expect(stdout).to.contain('Event store: embedded, in memory');
    expect(stdout).to.contain('✗ RemoveItem refused: ITEM_NOT_IN_ORDER');
    expect(stdout).to.contain('✗ AddItem refused: ORDER_ALREADY_SUBMITTED');
    expect(stdout).to.contain('✗ CancelOrder refused: ORDER_ALREADY_CANCELLED');
    const log = stdout.split('\n').filter((line) => /^ {2}#\d+ Order\/order-1001 seq \d+ /.test(line));
    expect(log.map((line) => line.trim().split(' ')[4])).to.deep.equal([
      'OrderCreated',
      'ItemAdded',
      'ItemAdded',
      'ItemRemoved',
      'OrderSubmitted',
      'OrderCancelled',
    ]);
    const state = JSON.parse(stdout.slice(stdout.indexOf('{', stdout.indexOf('State rebuilt from the log'))));
    expect(state).to.deep.include({ id: 'order-1001', status: 'cancelled', totalCents: 4350, version: 6 });
    expect(state.items).to.deep.equal([{ itemId: 'coffee-beans', quantity: 3, unitPriceCents: 1450 }]);
  });
});
