import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EXIT, runCli } from '@tributary/cli';

const fixtures = join(__dirname, 'fixtures', 'malformed');
const bin = join(__dirname, '..', 'bin', 'tributary.js');

/** Runs `tributary schemas check` on a configuration in this process: loading it is the first thing the command does. */
async function checkSchemas(config: string): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await runCli(['schemas', 'check', '--config', join(fixtures, config)], {
    stdout: () => {},
    stderr: (text) => (err += text),
    env: {},
  });
  return { code, err };
}

/** Runs the installed command as a user does, in a process of its own, with no ts-node loaded beforehand. */
function runTributary(args: readonly string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
}

/** One line, typed, with no stack: what a user reads. */
function expectOneTypedLine(err: string, message: string): void {
  expect(err).to.equal(`tributary: The Tributary configuration in ${message} [INVALID_CONFIG]\n`);
}

describe('a malformed configuration', () => {
  it('with a syntax error exits 2, naming the file, line and column, without a stack', async () => {
    const path = join(fixtures, 'syntax-error.config.js');
    const { code, err } = await checkSchemas('syntax-error.config.js');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} has a syntax error at line 5, column 15: Unexpected token ','`);
  });

  it('written as an ES module, with a syntax error, exits 2 naming the line', async () => {
    const path = join(fixtures, 'syntax-error-esm.config.js');
    const { code, err } = await checkSchemas('syntax-error-esm.config.js');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} has a syntax error at line 5, column 1: Unexpected token '}'`);
  });

  it('in TypeScript, with a syntax error, exits 2 naming the line and the compiler’s message', async () => {
    const path = join(fixtures, 'syntax-error.config.ts');
    const { code, err } = await checkSchemas('syntax-error.config.ts');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} does not compile at line 7, column 1: Expression or comma expected (TS1137)`);
  });

  it('that loads a module with a syntax error exits 2, naming that module and its line', async () => {
    const path = join(fixtures, 'loads-broken-module.config.js');
    const { code, err } = await checkSchemas('loads-broken-module.config.js');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} loads ${join(fixtures, 'broken-module.js')}, which has a syntax error at line 3, column 18: Unexpected token ','`);
  });

  it('that throws while it is evaluated exits 2, naming the line it threw at and the error', async () => {
    const path = join(fixtures, 'throws.config.js');
    const { code, err } = await checkSchemas('throws.config.js');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} threw while loading, at line 3, column 9: Error: KAFKA_BROKERS is not set`);
  });

  it('that exports null exits 2, saying what to export', async () => {
    const path = join(fixtures, 'null-export.config.js');
    const { code, err } = await checkSchemas('null-export.config.js');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} exports null: export { app: "<name the processors use>", aggregates: [...] } as default`);
  });

  it('that awaits at its top level exits 2, saying the command cannot load that', async () => {
    const path = join(fixtures, 'top-level-await.config.mjs');
    const { code, err } = await checkSchemas('top-level-await.config.mjs');
    expect(code).to.equal(EXIT.usage);
    expectOneTypedLine(err, `${path} uses top-level await, which the tributary command cannot load (it requires the module): build the configuration without awaiting`);
  });

  it('reached through a symbolic link still names the line in the configuration itself', async () => {
    // Node names a loaded module by its real path; the message names the path given.
    const directory = mkdtempSync(join(tmpdir(), 'tributary-config-'));
    const linked = join(directory, 'linked');
    symlinkSync(fixtures, linked, 'dir');
    try {
      for (const [config, problem] of [
        ['syntax-error.config.js', "has a syntax error at line 5, column 15: Unexpected token ','"],
        ['throws.config.js', 'threw while loading, at line 3, column 9: Error: KAFKA_BROKERS is not set'],
      ]) {
        let err = '';
        const code = await runCli(['schemas', 'check', '--config', join(linked, config)], { stdout: () => {}, stderr: (text) => (err += text), env: {} });
        expect(code).to.equal(EXIT.usage);
        expectOneTypedLine(err, `${join(linked, config)} ${problem}`);
      }
    } finally {
      // Removes the link, not the fixtures it points at.
      rmSync(directory, { recursive: true });
    }
  });

  it('makes the tributary command itself exit 2 with the typed line, for JavaScript and TypeScript alike', async function () {
    // Two Node processes, the second loading TypeScript: slow on a loaded machine.
    this.timeout(120_000);
    const js = await runTributary(['schemas', 'check', '--config', join(fixtures, 'syntax-error.config.js')]);
    expect(js.code).to.equal(EXIT.usage);
    expectOneTypedLine(js.err, `${join(fixtures, 'syntax-error.config.js')} has a syntax error at line 5, column 15: Unexpected token ','`);

    const ts = await runTributary(['replay', 'Anything', '--config', join(fixtures, 'syntax-error.config.ts')]);
    expect(ts.code).to.equal(EXIT.usage);
    expectOneTypedLine(ts.err, `${join(fixtures, 'syntax-error.config.ts')} does not compile at line 7, column 1: Expression or comma expected (TS1137)`);
  });
});
