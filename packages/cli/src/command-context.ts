import { NoBrokersError } from './errors/cli.errors';
import { TributaryConfig } from './tributary-config';

/** What a command's action needs of the invocation: where to write, the environment, and how to set the exit code. */
export interface CommandContext {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal, for progress drawn in place. */
  readonly stderrIsTTY: boolean;
  /** Least time between two progress lines when stderr is not a terminal; undefined for the bar's default. */
  readonly progressIntervalMs?: number;
  /** Stops a long-running command as SIGTERM would; when absent, those commands listen to the process's signals. */
  readonly signal?: AbortSignal;
  setExitCode(code: number): void;
}

/** The brokers: `--brokers`, else the configuration's, else `KAFKA_BROKERS`. */
export function brokersFor(config: TributaryConfig, brokers: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const list = brokers ?? (config.brokers ? config.brokers.join(',') : env.KAFKA_BROKERS);
  const parsed = (list ?? '').split(',').map((broker) => broker.trim()).filter((broker) => broker.length > 0);
  if (parsed.length === 0) throw new NoBrokersError();
  return parsed;
}
