/**
 * Turns the TypeScript blocks of the README and the pages in docs/ into programs
 * the tests compile and run, so examples never rot. A page's blocks form one
 * program, in order. A line `console.log(x); // expected` is an assertion: what
 * it prints must equal the comment. A page marked `<!-- snippets: integration -->`
 * needs the test services and runs in doc-snippets.int.test.ts.
 */
import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { format } from 'node:util';
import ts from 'typescript';

export const root = join(__dirname, '..', '..');
const workDir = join(root, 'node_modules', '.cache', 'tributary-docs');
export const pages = [join(root, 'README.md'), ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f))];

interface SourceLine {
  readonly text: string;
  /** 1-based line in the Markdown page, for error messages. */
  readonly pageLine: number;
}

export interface Program {
  readonly page: string;
  readonly needsServices: boolean;
  readonly file: string;
  readonly lines: readonly SourceLine[];
}

export function extractBlocks(page: string): SourceLine[] {
  const lines = readFileSync(page, 'utf8').split('\n');
  const code: SourceLine[] = [];
  let inBlock = false;
  lines.forEach((text, index) => {
    if (/^```ts\s*$/.test(text)) inBlock = true;
    else if (inBlock && /^```\s*$/.test(text)) inBlock = false;
    else if (inBlock) code.push({ text, pageLine: index + 1 });
  });
  return code;
}

/** Hoists imports and wraps the rest in `run`, turning commented console.logs into checks. */
export function toProgram(page: string, code: SourceLine[]): Program {
  const parsed = ts.createSourceFile('page.ts', code.map((l) => l.text).join('\n'), ts.ScriptTarget.ES2022, true);
  const importLines = new Set<number>();
  for (const statement of parsed.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const first = parsed.getLineAndCharacterOfPosition(statement.getStart()).line;
    const last = parsed.getLineAndCharacterOfPosition(statement.getEnd()).line;
    for (let line = first; line <= last; line += 1) importLines.add(line);
  }
  const body = code.map((line, index) => {
    if (importLines.has(index)) return line;
    const checked = /^(\s*)console\.log\((.*)\);\s*\/\/\s*(.+)$/.exec(line.text);
    if (checked) return { ...line, text: `${checked[1]}__check(${line.pageLine}, ${JSON.stringify(checked[3])}, ${checked[2]});` };
    return { ...line, text: line.text.replace(/console\.log\(/g, '__print(') };
  });
  const generatedBy = { text: '', pageLine: 0 };
  const lines = [
    ...body.filter((_, index) => importLines.has(index)),
    { ...generatedBy, text: 'export async function run(__check: (line: number, expected: string, ...values: unknown[]) => void, __print: (...values: unknown[]) => void): Promise<void> {' },
    ...body.filter((_, index) => !importLines.has(index)),
    { ...generatedBy, text: '}' },
  ];
  const needsServices = readFileSync(page, 'utf8').includes('<!-- snippets: integration -->');
  return { page, needsServices, file: join(workDir, `${basename(page, '.md')}.ts`), lines };
}

export function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile).config;
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  return { ...options, noEmit: true, composite: false, declaration: false, declarationMap: false, incremental: false, types: ['node'] };
}

export function locate(program: Program, diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (!diagnostic.file || diagnostic.start === undefined) return message;
  const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
  const source = program.lines[line];
  return `${relative(root, program.page)}:${source?.pageLine ?? '?'}: ${message}\n    ${source?.text.trim() ?? ''}`;
}

function load(program: Program): { run: (check: (line: number, expected: string, ...values: unknown[]) => void, print: (...values: unknown[]) => void) => Promise<void> } {
  const source = program.lines.map((l) => l.text).join('\n');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { ...compilerOptions(), noEmit: false }, fileName: program.file });
  const compiled = new Module(program.file, module) as Module & { _compile(code: string, file: string): void; paths: string[] };
  compiled.filename = program.file;
  compiled.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(program.file));
  compiled._compile(outputText, program.file);
  return compiled.exports;
}

/** Every page's program, written to disk where it resolves the workspace packages. */
export function writePrograms(): Program[] {
  const programs = pages.map((page) => toProgram(page, extractBlocks(page))).filter((p) => p.lines.length > 2);
  mkdirSync(workDir, { recursive: true });
  for (const program of programs) writeFileSync(program.file, program.lines.map((l) => l.text).join('\n'));
  return programs;
}

/** Runs a page's program; fails on any printed line that differs from its comment. */
export async function runProgram(program: Program): Promise<void> {
  const mismatches: string[] = [];
  let checks = 0;
  await load(program).run(
    (line, expected, ...values) => {
      checks += 1;
      const printed = format(...values);
      if (printed !== expected) mismatches.push(`${relative(root, program.page)}:${line}: printed ${printed}, the comment says ${expected}`);
    },
    () => undefined,
  );
  expect(mismatches, mismatches.join('\n')).to.deep.equal([]);
  expect(checks, 'each page should assert at least one printed result').to.be.greaterThan(0);
}
