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
  const state = JSON.parse(stdout.slice(stdout.indexOf('{', stdout.indexOf('State rebuilt from the log'))));
  expect(state).to.deep.include({ id: 'order-1001', status: 'cancelled', totalCents: 4350, version: 6 });
  expect(state.items).to.deep.equal([{ itemId: 'coffee-beans', quantity: 3, unitPriceCents: 1450 }]);
}
