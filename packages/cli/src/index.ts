/**
 * @tributary/cli: the `tributary` command.
 *
 * - `tributary schemas check`: compares the local event schemas with the
 *   registry's, exiting 1 with the event, field and rule of each incompatible change.
 * - `tributary schemas register`: sets each subject's compatibility and registers
 *   the current schemas.
 * - `tributary replay <aggregate>`: replays an aggregate type's events topic,
 *   with progress, and reports the counts and the rate.
 * - `tributary projection run [names...]`: runs a worker per configured
 *   projection (or those named), serving `/metrics` and `/health`, until
 *   SIGTERM or SIGINT stops them gracefully; exits 3 if a worker fails.
 * - `tributary projection rebuild <name>`: rebuilds a projection into a shadow
 *   version, with progress and the remaining lag, and swaps it in.
 * - `tributary dlq list <projection>`: the outstanding dead letters.
 * - `tributary dlq redrive <projection> [--aggregate Type:id]`: handles them
 *   again after a fix, exiting 1 if one fails again.
 * - `tributary dlq skip <projection> <topic:partition:offset>`: drops one and
 *   redrives those of its aggregate parked behind it.
 *
 * It reads the app, and its projections, from a configuration module: see {@link defineConfig}.
 */
export { runCli, EXIT } from './cli';
export type { CliEnvironment } from './cli';
export { defineConfig } from './tributary-config';
export type { ProjectionConfig, TributaryConfig } from './tributary-config';
export { loadConfig, DEFAULT_CONFIG_FILE } from './config-loader';
export {
  ConfigFileNotFoundError,
  InvalidConfigError,
  MetricsPortInUseError,
  NoBrokersError,
  NoSchemaRegistryError,
  UnknownAggregateError,
  UnknownProjectionError,
} from './errors/cli.errors';
export { ProgressBar, formatDuration } from './progress-bar';
export type { Progress, ProgressBarOptions } from './progress-bar';
