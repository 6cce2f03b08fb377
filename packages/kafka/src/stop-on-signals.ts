/** The signals a worker stops on by default: what process managers (systemd, Kubernetes) and Ctrl-C send. */
export const DEFAULT_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Stops a worker gracefully when the process is asked to end, so it leaves its
 * consumer group at once and its partitions move without waiting out the
 * session timeout.
 *
 * Each signal is handled once. After `stop()` settles, the signal takes its
 * default course (the process ends) unless the application listens to it too,
 * in which case ending the process is left to the application. A second signal
 * during a stop that hangs meets Node's default and ends the process.
 *
 * @returns a function that removes the handlers (call it when the worker stops another way).
 */
export function stopOnSignals(stop: () => Promise<void>, signals: readonly NodeJS.Signals[] = DEFAULT_STOP_SIGNALS): () => void {
  const handlers = signals.map((signal) => {
    const handler = () => {
      dispose();
      void stop()
        .catch(() => undefined)
        .then(() => {
          // Nobody else listens: do what the signal would have done without us.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  const dispose = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
  return dispose;
}
