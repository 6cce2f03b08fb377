import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse } from 'acorn';
import { InvalidConfigError } from './errors/cli.errors';

/** Where in a file: 1-based line and column. */
interface Place {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The parts of a ts-node `TSError` read here; ts-node is optional, so it is not imported. */
interface TypeScriptError {
  readonly name: 'TSError';
  readonly diagnosticText: string;
  readonly diagnostics: readonly {
    readonly code: number;
    readonly start?: number;
    readonly messageText: string | { readonly messageText: string };
    readonly file?: { readonly fileName: string; getLineAndCharacterOfPosition(position: number): { line: number; character: number } };
  }[];
}

/**
 * The error for a configuration module that could not be loaded: it does not
 * parse, does not compile, or threw while it was evaluated. It names the file,
 * the line and column and what is wrong in one line, so the command can print
 * that instead of a stack; the original error is its `cause`.
 */
export function configLoadFailure(path: string, error: unknown): InvalidConfigError {
  if (isTypeScriptError(error)) return new InvalidConfigError(path, compileProblem(path, error), error);
  if (error instanceof SyntaxError) return new InvalidConfigError(path, syntaxProblem(path, error), error);
  return new InvalidConfigError(path, evaluationProblem(path, error), error);
}

function compileProblem(path: string, error: TypeScriptError): string {
  const diagnostic = error.diagnostics.find((candidate) => candidate.file && candidate.start !== undefined);
  if (!diagnostic) return `does not compile: ${firstLine(error.diagnosticText)}`;
  const { line, character } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start!);
  const text = typeof diagnostic.messageText === 'string' ? diagnostic.messageText : diagnostic.messageText.messageText;
  const place = { file: diagnostic.file!.fileName, line: line + 1, column: character + 1 };
  return inFile(path, place, `does not compile ${at(place)}: ${text.replace(/\.$/, '')} (TS${diagnostic.code})`);
}

function syntaxProblem(path: string, error: SyntaxError): string {
  const place = placeInStack(path, error) ?? placeByParsing(path);
  if (!place) return `or a module it loads has a syntax error: ${error.message}`;
  return inFile(path, place, `has a syntax error ${at(place)}: ${error.message}`);
}

function evaluationProblem(path: string, error: unknown): string {
  if (hasCode(error, 'ERR_REQUIRE_ASYNC_MODULE')) {
    return 'uses top-level await, which the tributary command cannot load (it requires the module): build the configuration without awaiting';
  }
  const place = error instanceof Error ? frameIn(path, error) : undefined;
  return `threw while loading${place ? `, ${at(place)}` : ''}: ${describeError(error)}`;
}

/**
 * Node puts the place of a syntax error in CommonJS code at the head of the
 * stack: `file:line`, the source line, then a caret under the column.
 */
function placeInStack(path: string, error: SyntaxError): Place | undefined {
  const [head, , caret] = (error.stack ?? '').split('\n');
  const match = /^(.+):(\d+)$/.exec(head ?? '');
  if (!match || caret === undefined || !caret.includes('^')) return undefined;
  const file = namesOf(path).includes(match[1]) ? path : match[1];
  return { file, line: Number(match[2]), column: caret.indexOf('^') + 1 };
}

/**
 * Syntax errors of ES modules come without a place, so the configuration is
 * parsed again to find it. Undefined when it parses: then the error is in a
 * module it imports.
 */
function placeByParsing(path: string): Place | undefined {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true });
    return undefined;
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    return loc ? { file: path, line: loc.line, column: loc.column + 1 } : undefined;
  }
}

/** The first frame of the stack in the configuration itself: where its own code threw, or called what threw. */
function frameIn(path: string, error: Error): Place | undefined {
  for (const file of namesOf(path)) {
    const match = new RegExp(`${escapeRegExp(file)}:(\\d+):(\\d+)\\)?$`, 'm').exec(error.stack ?? '');
    if (match) return { file: path, line: Number(match[1]), column: Number(match[2]) };
  }
  return undefined;
}

/** The names a stack may give the configuration: Node names modules by their real path, and ES modules by URL. */
function namesOf(path: string): string[] {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // Gone since it was found: the path as given is all there is.
  }
  return [...new Set([path, real])].flatMap((name) => [name, pathToFileURL(name).href]);
}

function inFile(path: string, place: Place, problem: string): string {
  return place.file === path ? problem : `loads ${place.file}, which ${problem}`;
}

function at(place: Place): string {
  return `at line ${place.line}, column ${place.column}`;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${firstLine(error.message)}`;
}

function isTypeScriptError(error: unknown): error is TypeScriptError {
  return error instanceof Error && error.name === 'TSError' && Array.isArray((error as Partial<TypeScriptError>).diagnostics);
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
