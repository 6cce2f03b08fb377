import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Runs the built demo with the given KAFKA_BROKERS (or none) and returns what it printed. */
export async function runDemo(kafkaBrokers: string | undefined): Promise<string> {
  const env = { ...process.env };
  if (kafkaBrokers) env.KAFKA_BROKERS = kafkaBrokers;
  else delete env.KAFKA_BROKERS;
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], { env, timeout: 90_000 });
  return stdout;
}

/** What every run of the demo must show, whichever store it runs on. */
export function expectDemoStory(stdout: string, logLine: RegExp): void {
  expect(stdout).to.contain('✗ RemoveItem refused: ITEM_NOT_IN_ORDER');
  expect(stdout).to.contain('✗ AddItem refused: ORDER_ALREADY_SUBMITTED');
  expect(stdout).to.contain('✗ CancelOrder refused: ORDER_ALREADY_CANCELLED');
  const log = stdout.split('\n').filter((line) => logLine.test(line));
  expect(log.map((line) => / seq (\d+) (\w+) /.exec(line)!.slice(1, 3).join(' '))).to.deep.equal([
    '1 OrderCreated',
    '2 ItemAdded',
    '3 ItemAdded',
    '4 ItemRemoved',
    '5 OrderSubmitted',
    '6 OrderCancelled',
  ]);
  const start = stdout.indexOf('{', stdout.indexOf('State rebuilt from the log'));
  const state = JSON.parse(stdout.slice(start, stdout.indexOf('\n}\n', start) + 2));
  expect(state).to.deep.include({ id: 'order-1001', status: 'cancelled', totalCents: 4350, version: 6 });
  expect(state.items).to.deep.equal([{ itemId: 'coffee-beans', quantity: 3, unitPriceCents: 1450 }]);
}

/**
 * The read models the demo printed: the order's summary row and the customer's
 * orders; or, where PostgreSQL and Redis did not answer (allowed unless
 * `required`), the line saying they were skipped and how to get them.
 */
export function expectDemoReadModels(stdout: string, required: boolean): void {
  if (!required && stdout.includes('\nRead models skipped: no PostgreSQL at ')) {
    expect(stdout).to.match(/no Redis at .*\(REDIS_URL\); start them or set those variables to see order-summary and customer-orders\n$/);
    return;
  }
  expect(stdout).to.match(/\nRead models \((PostgreSQL schema orders_demo_\w+)?(, )?(Redis keys orders-demo:\w+:\*)?\)\n/);
  const summary = / {2}order-summary {4}(.*)\n/.exec(stdout)?.[1];
  const customer = / {2}customer-orders {2}(.*)\n/.exec(stdout)?.[1];
  if (summary !== undefined || required) expect(summary).to.match(/^order-1001: customer-7, cancelled, 1 item\(s\), 4350 cents, updated \d{4}-\d\d-\d\dT/);
  else expect(stdout).to.contain('  skipped: no PostgreSQL at ');
  if (customer !== undefined || required) expect(customer).to.equal('customer-7: order-1001 (4350 cents)');
  else expect(stdout).to.contain('  skipped: no Redis at ');
}
