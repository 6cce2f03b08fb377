/**
 * `tributary replay <aggregate>` against the real broker: events written by a
 * command processor, replayed by the command, which reports progress on stderr
 * and the counts and rate on stdout.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT, runCli } from '@tributary/cli';
import { CommandProcessor, KafkaCommandBus } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { Account, Deposit, OpenAccount } from '../../kafka/test/support/account';

const fixture = join(__dirname, 'fixtures', 'replay.config.ts');

async function tributary(args: string[], options: { env?: NodeJS.ProcessEnv; tty?: boolean } = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    env: options.env ?? { KAFKA_BROKERS: kafkaBrokers().join(',') },
    stderrIsTTY: options.tty ?? false,
  });
  return { code, out, err };
}

describe('tributary replay (real broker)', function () {
  this.timeout(60_000);
  const app = uniqueName('cli-replay');
  const connection = () => ({ app, brokers: kafkaBrokers(), aggregates: [Account], partitions: 2 });
  let processor: CommandProcessor;
  let bus: KafkaCommandBus;

  before(async () => {
    process.env.TRIBUTARY_CLI_TEST_APP = app;
    processor = new CommandProcessor(connection());
    await processor.start();
    bus = new KafkaCommandBus(connection());
    await bus.start();
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map(async (id) => {
        await bus.execute(new OpenAccount(id, id));
        for (let amount = 1; amount <= 3; amount += 1) await bus.execute(new Deposit(id, amount));
      }),
    );
  });

  after(async () => {
    await bus?.stop();
    await processor?.stop();
  });

  it('replays the aggregate’s events topic and sums it up on stdout', async () => {
    const { code, out, err } = await tributary(['replay', 'Account', '--config', fixture]);
    expect(err).to.equal('');
    expect(code).to.equal(EXIT.ok);
    expect(out).to.match(/^replay Account: 20 events, 5 aggregates in \d+\.\d\d s, \d+ events\/s\n$/);
  });

  it('draws a bar on a terminal, ending at 100%', async () => {
    const { code, out, err } = await tributary(['replay', 'Account', '--config', fixture, '--brokers', kafkaBrokers().join(',')], { env: {}, tty: true });
    expect(code, err).to.equal(EXIT.ok);
    expect(out).to.match(/20 events, 5 aggregates/);
    expect(err).to.match(/\rreplay Account \[█{30}\] 100% \d+ events\/s ETA 0s\s*\n$/);
  });

  it('says what to do without brokers, or for an aggregate the configuration lacks', async () => {
    const noBrokers = await tributary(['replay', 'Account', '--config', fixture], { env: {} });
    expect(noBrokers.code).to.equal(EXIT.usage);
    expect(noBrokers.err).to.include('KAFKA_BROKERS').and.include('NO_BROKERS');
    const unknown = await tributary(['replay', 'Order', '--config', fixture]);
    expect(unknown.code).to.equal(EXIT.usage);
    expect(unknown.err).to.include("No aggregate 'Order'").and.include('Account');
  });
});
