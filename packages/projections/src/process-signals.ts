import { stopOnSignals } from '@tributary/kafka';

/** The stops of this process's runners that stop on SIGTERM and SIGINT. */
const stops = new Set<() => Promise<void>>();
let removeHandlers: (() => void) | undefined;

/**
 * Stops a runner when the process is asked to end (`stopOnSignals` of
 * `@tributary/kafka`), together with every other runner of the process that
 * asked the same: one set of handlers stops them all at once, and the signal
 * takes its course (the process ends) only when the last has left its group.
 * With a set of handlers each, the first runner to finish would end the
 * process while the others are still stopping.
 *
 * @returns a function that takes the runner out (call it when the runner stops another way).
 */
export function stopOnProcessSignals(stop: () => Promise<void>): () => void {
  stops.add(stop);
  removeHandlers ??= stopOnSignals(async () => {
    // The handlers are gone now: a runner that starts from here on registers new ones.
    removeHandlers = undefined;
    const stopping = [...stops];
    stops.clear();
    await Promise.all(stopping.map((each) => each().catch(() => undefined)));
  });
  return () => {
    stops.delete(stop);
    if (stops.size === 0) {
      removeHandlers?.();
      removeHandlers = undefined;
    }
  };
}
