import { expect } from 'chai';
import { relative } from 'node:path';
import ts from 'typescript';
import { Program, locate, compilerOptions, root, runProgram, writePrograms } from './snippets';

describe('documentation snippets', () => {
  let programs: Program[] = [];

  before(() => {
    programs = writePrograms();
  });

  it('are found on every page', () => {
    expect(programs.map((p) => relative(root, p.page))).to.include.members([
      'README.md',
      'docs/getting-started.md',
      'docs/aggregate-dsl.md',
      'docs/kafka-event-store.md',
      'docs/projections.md',
    ]);
  });

  it('compile without errors, the pages that need Kafka included', () => {
    const checked = ts.createProgram(programs.map((p) => p.file), compilerOptions());
    const problems = programs.flatMap((program) =>
      ts.getPreEmitDiagnostics(checked, checked.getSourceFile(program.file)).map((d) => locate(program, d)),
    );
    expect(problems, problems.join('\n\n')).to.deep.equal([]);
  });

  it('run, printing what their comments say (pages without services)', async () => {
    const runnable = programs.filter((program) => !program.needsServices);
    expect(runnable.length).to.be.greaterThan(2);
    for (const program of runnable) await runProgram(program);
  });
});
