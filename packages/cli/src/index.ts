/**
 * @tributary/cli: the `tributary` command.
 *
 * - `tributary schemas check`: compares the local event schemas with the
 *   registry's, exiting 1 with the event, field and rule of each incompatible change.
 * - `tributary schemas register`: sets each subject's compatibility and registers
 *   the current schemas.
 * - `tributary replay <aggregate>`: replays an aggregate type's events topic,
 *   with progress, and reports the counts and the rate.
 *
 * It reads the app from a configuration module: see {@link defineConfig}.
 */
export { runCli, EXIT } from './cli';
export type { CliEnvironment } from './cli';
export { defineConfig } from './tributary-config';
export type { TributaryConfig } from './tributary-config';
export { loadConfig, DEFAULT_CONFIG_FILE } from './config-loader';
export { ConfigFileNotFoundError, InvalidConfigError, NoBrokersError, NoSchemaRegistryError, UnknownAggregateError } from './errors/cli.errors';
export { ProgressBar, formatDuration } from './progress-bar';
export type { Progress, ProgressBarOptions } from './progress-bar';
