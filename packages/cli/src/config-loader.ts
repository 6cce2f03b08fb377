import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TributaryConfig } from './tributary-config';
import { ConfigFileNotFoundError, InvalidConfigError } from './errors/cli.errors';
import { configLoadFailure } from './config-load-failure';

/** The file looked for when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = 'tributary.config.js';

/**
 * Loads and checks the configuration module. A `.ts` module is loaded through
 * ts-node when the project has it, so a TypeScript project needs no build step
 * to run the command.
 *
 * @throws {@link ConfigFileNotFoundError} when there is no such file;
 *   {@link InvalidConfigError} when it does not parse or compile (naming the
 *   line and column), throws while it loads, or exports no usable configuration.
 */
export function loadConfig(file: string = DEFAULT_CONFIG_FILE, cwd: string = process.cwd()): TributaryConfig {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new ConfigFileNotFoundError(path);
  if (/\.[cm]?ts$/.test(path)) registerTypeScript(path);
  let loaded: { default?: unknown; config?: unknown } | null | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(path);
  } catch (error) {
    throw configLoadFailure(path, error);
  }
  const config = (loaded?.default ?? loaded?.config ?? loaded) as Partial<TributaryConfig> | null | undefined;
  if (config === null || config === undefined) {
    throw new InvalidConfigError(path, `exports ${String(config)}: export { app: "<name the processors use>", aggregates: [...] } as default`);
  }
  if (typeof config.app !== 'string' || config.app.length === 0) {
    throw new InvalidConfigError(path, 'has no app: export { app: "<name the processors use>", aggregates: [...] } as default');
  }
  if (!Array.isArray(config.aggregates) || config.aggregates.length === 0 || !config.aggregates.every((a) => typeof a === 'function')) {
    throw new InvalidConfigError(path, 'needs aggregates: a non-empty array of @Aggregate classes');
  }
  for (const key of ['events', 'upcasters'] as const) {
    if (config[key] !== undefined && !Array.isArray(config[key])) throw new InvalidConfigError(path, `has ${key} that is not an array`);
  }
  if (config.brokers !== undefined && (!Array.isArray(config.brokers) || !config.brokers.every((broker) => typeof broker === 'string'))) {
    throw new InvalidConfigError(path, "has brokers that are not an array of 'host:port' strings");
  }
  if (config.partitions !== undefined && !(Number.isInteger(config.partitions) && config.partitions >= 1)) {
    throw new InvalidConfigError(path, `has partitions ${JSON.stringify(config.partitions)}: give the whole number the processors were given`);
  }
  if (config.projections !== undefined) checkProjections(path, config.projections);
  return config as TributaryConfig;
}

function checkProjections(path: string, projections: unknown): void {
  if (!Array.isArray(projections)) throw new InvalidConfigError(path, 'has projections that are not an array of { projection, store }');
  for (const [index, entry] of (projections as unknown[]).entries()) {
    const where = `projections[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw new InvalidConfigError(path, `has ${where} that is not an object: give { projection, store }`);
    const { projection, store, batchSize, concurrency } = entry as Record<string, unknown>;
    if ((typeof projection !== 'function' && typeof projection !== 'object') || projection === null) {
      throw new InvalidConfigError(path, `has ${where} without a projection: give an @Projection class or a defineProjection(…) definition`);
    }
    const isStore = typeof store === 'function' || (typeof store === 'object' && store !== null && typeof (store as { commit?: unknown }).commit === 'function');
    if (!isStore) throw new InvalidConfigError(path, `has ${where} without a store: give a ReadModelStore, or a function that returns one`);
    for (const [name, value] of [['batchSize', batchSize], ['concurrency', concurrency]] as const) {
      if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1)) {
        throw new InvalidConfigError(path, `has ${where}.${name} ${JSON.stringify(value)}: give a whole number of at least 1`);
      }
    }
  }
}

function registerTypeScript(path: string): void {
  // Under ts-node already (as in this repository's tests): nothing to register.
  if ((process as unknown as Record<symbol, unknown>)[Symbol.for('ts-node.register.instance')]) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(require.resolve('ts-node/register/transpile-only', { paths: [path, process.cwd()] }));
  } catch {
    throw new InvalidConfigError(path, 'is TypeScript, and ts-node is not installed: compile it to JavaScript, or npm install --save-dev ts-node');
  }
}
