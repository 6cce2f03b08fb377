import * as os from 'node:os';

/** Above this 1-minute load average a 2-core machine is busy enough to skew figures. */
export const BUSY_LOAD_AVERAGE = 1.5;

/**
 * Prints the load average as a benchmark starts, and a warning when the
 * machine is not quiet: a figure taken on a loaded machine is not a figure.
 * @returns the load average, for the benchmark's JSON.
 */
export function checkQuietMachine(benchmark: string): number[] {
  const load = os.loadavg().map((value) => Math.round(value * 100) / 100);
  console.error(`[bench:${benchmark}] load average ${load.join(' ')} on ${os.cpus().length} cores`);
  if (load[0] > BUSY_LOAD_AVERAGE) {
    console.error(`[bench:${benchmark}] WARNING: the 1-minute load average ${load[0]} is above ${BUSY_LOAD_AVERAGE}; wait for a quiet machine before trusting these figures`);
  }
  return load;
}
