import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT, InvalidConfigError, loadConfig, runCli } from '@tributary/cli';

describe('projections in the configuration', () => {
  it('refuses a projection without a store, saying what to give', () => {
    expect(() => loadConfig(join(__dirname, 'fixtures', 'storeless-projection.config.ts')))
      .to.throw(InvalidConfigError)
      .with.property('message')
      .that.includes('projections[0] without a store: give a ReadModelStore, or a function that returns one');
  });

  it('exits 2 on a bad --port or --swap-lag, before loading anything', async () => {
    let err = '';
    const environment = { stdout: () => {}, stderr: (text: string) => (err += text), env: {} };
    expect(await runCli(['projection', 'run', '--port', 'x'], environment)).to.equal(EXIT.usage);
    expect(err).to.include('Give a port from 0 to 65535.');
    expect(await runCli(['projection', 'rebuild', 'p', '--swap-lag', '-1'], environment)).to.equal(EXIT.usage);
    expect(await runCli(['dlq', 'redrive', 'p', '--aggregate', 'o-1'], environment)).to.equal(EXIT.usage);
    expect(err).to.include('Give the aggregate as Type:id');
  });
});
