import { expect } from 'chai';
import { Program, runProgram, writePrograms } from './snippets';
import { kafkaBrokers } from '../../test-support/integration';

describe('documentation snippets that need Kafka', function () {
  this.timeout(120_000);

  it('run against the test broker, printing what their comments say', async () => {
    expect(kafkaBrokers().length).to.be.greaterThan(0);
    const programs: Program[] = writePrograms().filter((program) => program.needsServices);
    expect(programs.length).to.be.greaterThan(0);
    for (const program of programs) await runProgram(program);
  });
});
