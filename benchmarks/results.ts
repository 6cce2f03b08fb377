import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

/** Where benchmarks keep their last result, for `npm run bench -- report`. */
export const RESULTS_DIRECTORY = join(__dirname, 'results');

/** The machine a figure was taken on, recorded with it. */
export interface MachineRecord {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** 1, 5 and 15-minute load averages when the benchmark started. */
  readonly loadAverageAtStart: readonly number[];
}

/** A benchmark's result as saved: what it printed, when, and on what. */
export interface SavedResult<T = unknown> {
  readonly benchmark: string;
  readonly takenAt: string;
  readonly machine: MachineRecord;
  readonly result: T;
}

/** The machine as it is now, with the load average the benchmark saw at its start. */
export function machineRecord(loadAverageAtStart: readonly number[]): MachineRecord {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart,
  };
}

/**
 * Saves a benchmark's result as `benchmarks/results/<benchmark>.json` (the
 * report reads them; commit the ones the docs should show). Skipped when
 * BENCH_SAVE=off, e.g. for a quick try at a small scale.
 */
export function saveResult(benchmark: string, result: unknown, loadAverageAtStart: readonly number[]): void {
  if (process.env.BENCH_SAVE === 'off') return;
  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const saved: SavedResult = { benchmark, takenAt: new Date().toISOString(), machine: machineRecord(loadAverageAtStart), result };
  writeFileSync(join(RESULTS_DIRECTORY, `${benchmark}.json`), `${JSON.stringify(saved, null, 2)}\n`);
  console.error(`[bench:${benchmark}] saved to benchmarks/results/${benchmark}.json`);
}
